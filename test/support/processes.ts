import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';

export async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  return port;
}

export interface StepwiseProcess {
  child: ChildProcess;
  /** The API's base URL; empty for a worker. */
  url: string;
  /** Stops the process at once, as a crash or `kill -9` would. */
  kill(): Promise<void>;
  /** Asks the process to shut down, as an operator's SIGTERM does; resolves with how it exited. */
  terminate(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** `stepwise serve` as its own process, the way an operator runs it; resolves once it is ready. */
export async function spawnStepwise(env: Record<string, string>, role?: 'api' | 'worker' | 'all', nodeOptions: string[] = []): Promise<StepwiseProcess> {
  const port = role === 'worker' ? 0 : await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', ...nodeOptions, 'src/cli.ts', 'serve', ...(role ? ['--role', role] : [])], {
    env: { ...process.env, PORT: String(port), STEPWISE_LOG: 'off', STEPWISE_CODE_WARM_POOL: '0', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const [line] = (await once(child.stdout!, 'data')) as [Buffer];
  assert.match(line.toString(), role === 'worker' ? /as a worker/ : /serving the Assistants API/);
  return {
    child,
    url: role === 'worker' ? '' : `http://127.0.0.1:${port}/v1`,
    async kill() {
      if (child.exitCode !== null) return;
      child.kill('SIGKILL');
      await once(child, 'exit');
    },
    async terminate() {
      const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
      child.kill('SIGTERM');
      const [code, signal] = await exited;
      return { code, signal };
    },
  };
}
