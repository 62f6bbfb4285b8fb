/**
 * Host side of the code_interpreter sandbox: Python (Pyodide) in a worker thread, so user code
 * never blocks the event loop and a runaway cell can be killed by terminating the worker.
 */
import type { Worker } from 'node:worker_threads';
import { startWorker } from '../../threads/start-worker.js';
import type { RunCellRequest, SandboxFile, WorkerData, WorkerMessage } from './protocol.js';

export type { SandboxFile } from './protocol.js';

export interface SandboxOptions {
  /** Wall-clock limit for one run() call. */
  timeoutMs: number;
  /** Cap on the Python (WebAssembly) heap; also sizes the worker's V8 heap limits. */
  memoryLimitMb: number;
}

export interface CellResult {
  logs: string;
  error: boolean;
  files: SandboxFile[];
  timedOut: boolean;
  /** The interpreter was replaced after this call (time out or crash): variables and /mnt/data files are gone. */
  restarted: boolean;
}

const MAX_LOG_CHARS = 100_000;
const STARTUP_TIMEOUT_MS = 60_000;
const STATE_LOST = 'The Python session was restarted: variables and files from earlier calls are gone.';

async function spawnWorker(options: SandboxOptions): Promise<Worker> {
  const data: WorkerData = { wasmHeapLimitBytes: options.memoryLimitMb * 1024 * 1024, maxLogChars: MAX_LOG_CHARS };
  const worker = startWorker(import.meta.url, 'sandbox-worker', {
    workerData: data,
    env: {},
    resourceLimits: {
      // The Python heap lives in WebAssembly memory, outside these V8 limits; they bound the JS glue.
      maxOldGenerationSizeMb: Math.max(64, Math.ceil(options.memoryLimitMb / 4)),
      maxYoungGenerationSizeMb: 32,
    },
  });
  try {
    await new Promise<void>((resolve, reject) => {
      const onMessage = (message: WorkerMessage): void => {
        if (message.type === 'ready') settle();
        else settle(new Error(message.type === 'startup-failed' ? message.message : 'unexpected message from sandbox'));
      };
      const onExit = (code: number): void => settle(new Error(`Python sandbox exited during startup (code ${code})`));
      const settle = (error?: Error): void => {
        clearTimeout(timer);
        // Only our own listeners: removeAllListeners() would also drop Worker's internal ones.
        worker.off('message', onMessage).off('error', settle).off('exit', onExit);
        if (error) reject(error);
        else resolve();
      };
      const timer = setTimeout(() => settle(new Error('Python sandbox did not start in time')), STARTUP_TIMEOUT_MS);
      worker.on('message', onMessage).on('error', settle).on('exit', onExit);
    });
  } catch (error) {
    await worker.terminate();
    throw error;
  }
  return worker;
}

export class PythonSandbox {
  private nextRequestId = 1;
  private closed = false;
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly options: SandboxOptions,
    private worker: Promise<Worker>,
  ) {}

  static async start(options: SandboxOptions): Promise<PythonSandbox> {
    const worker = spawnWorker(options);
    await worker;
    return new PythonSandbox(options, worker);
  }

  /**
   * Writes `files` under /mnt/data, runs `code`, and returns its logs and the files it created or
   * changed. Calls run one after another, so each gets its whole time limit.
   */
  run(code: string, files: SandboxFile[] = []): Promise<CellResult> {
    const result = this.queue.then(() => this.runNow(code, files));
    this.queue = result.catch(() => {});
    return result;
  }

  private async runNow(code: string, files: SandboxFile[]): Promise<CellResult> {
    if (this.closed) throw new Error('PythonSandbox is closed');
    const worker = await this.worker;
    const request: RunCellRequest = { type: 'run', id: this.nextRequestId++, code, files };
    return new Promise<CellResult>((resolve) => {
      const finish = (result: CellResult): void => {
        clearTimeout(timer);
        worker.off('message', onMessage).off('error', onError).off('exit', onExit);
        resolve(result);
      };
      const onMessage = (message: WorkerMessage): void => {
        if (message.type !== 'result' || message.id !== request.id) return;
        if (message.fatal) {
          this.replaceWorker(worker);
          finish({ logs: `${message.logs}\nThe Python interpreter crashed.\n${STATE_LOST}`, error: true, files: [], timedOut: false, restarted: true });
        } else {
          finish({ logs: message.logs, error: message.error, files: message.files, timedOut: false, restarted: false });
        }
      };
      const onError = (error: Error): void => {
        this.replaceWorker(worker);
        finish(crashResult(error.message));
      };
      const onExit = (exitCode: number): void => {
        this.replaceWorker(worker);
        finish(crashResult(`exit code ${exitCode}`));
      };
      const timer = setTimeout(() => {
        this.replaceWorker(worker);
        const seconds = this.options.timeoutMs / 1000;
        finish({ logs: `Execution timed out after ${seconds} seconds.\n${STATE_LOST}`, error: true, files: [], timedOut: true, restarted: true });
      }, this.options.timeoutMs);
      worker.on('message', onMessage).on('error', onError).on('exit', onExit);
      worker.postMessage(request);
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const worker = await this.worker.catch(() => undefined);
    await worker?.terminate();
  }

  /** Kills `dead` and starts a fresh interpreter in the background for the next call. */
  private replaceWorker(dead: Worker): void {
    void dead.terminate();
    if (this.closed) return;
    this.worker = spawnWorker(this.options);
    // A failed restart surfaces on the next run(); don't let it become an unhandled rejection meanwhile.
    this.worker.catch(() => {});
  }
}

function crashResult(reason: string): CellResult {
  return {
    logs: `The Python process died (${reason}), most likely from running out of memory.\n${STATE_LOST}`,
    error: true,
    files: [],
    timedOut: false,
    restarted: true,
  };
}
