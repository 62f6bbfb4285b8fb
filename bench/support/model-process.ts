import { spawn } from 'node:child_process';
import { once } from 'node:events';

/** The scripted model server in its own process (`scripted-model-server.ts`), as a real one would be. */
export interface ModelProcess {
  url: string;
  close(): Promise<void>;
}

/** Answers `calls` streamed requests with `pieces` text pieces each. */
export async function startModelProcess(calls: number, pieces: number): Promise<ModelProcess> {
  const server = spawn(process.execPath, ['--import', 'tsx', new URL('./scripted-model-server.ts', import.meta.url).pathname, String(calls), String(pieces)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [line] = (await once(server.stdout!, 'data')) as [Buffer];
  return {
    url: line.toString().trim(),
    async close() {
      server.kill('SIGTERM');
      await once(server, 'exit');
    },
  };
}
