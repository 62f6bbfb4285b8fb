/** Messages between PythonSandbox (host) and sandbox-worker (worker thread). */

export interface SandboxFile {
  /** Absolute path under /mnt/data. */
  path: string;
  bytes: Uint8Array;
}

export interface RunCellRequest {
  type: 'run';
  id: number;
  code: string;
  files: SandboxFile[];
}

export type WorkerMessage =
  | { type: 'ready' }
  | { type: 'startup-failed'; message: string }
  /** `fatal`: the interpreter is unusable after this cell and the worker must be replaced. */
  | { type: 'result'; id: number; logs: string; error: boolean; files: SandboxFile[]; fatal: boolean };

export interface WorkerData {
  /** Ceiling for the WebAssembly heap, in bytes. */
  wasmHeapLimitBytes: number;
  /** Most characters of logs one cell returns. */
  maxLogChars: number;
}

export const DATA_DIR = '/mnt/data';
