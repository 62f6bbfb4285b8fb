import { spawn } from 'node:child_process';
import { once } from 'node:events';

/** A benchmark's helper server in a process of its own, as a real one would be. */
export interface ServerProcess {
  url: string;
  close(): Promise<void>;
}

/** Runs `script` (beside this file) through tsx; the server's URL is the first line it prints. */
async function startServerProcess(script: string, args: string[]): Promise<ServerProcess> {
  const server = spawn(process.execPath, ['--import', 'tsx', new URL(script, import.meta.url).pathname, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [line] = (await once(server.stdout!, 'data')) as [Buffer];
  return {
    url: line.toString().trim(),
    async close() {
      server.kill('SIGTERM');
      await once(server, 'exit');
    },
  };
}

/** The scripted model server (`scripted-model-server.ts`), answering `calls` streamed requests with `pieces` text pieces each. */
export function startModelProcess(calls: number, pieces: number): Promise<ServerProcess> {
  return startServerProcess('./scripted-model-server.ts', [String(calls), String(pieces)]);
}

/** `pass-through-proxy.ts` in front of the model server at `modelUrl`. */
export function startPassThroughProxy(modelUrl: string): Promise<ServerProcess> {
  return startServerProcess('./pass-through-proxy.ts', [modelUrl]);
}
