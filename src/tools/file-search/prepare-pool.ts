import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import PQueue from 'p-queue';
import { startWorker } from '../../threads/start-worker.js';
import type { Chunk, ChunkingOptions } from './chunk.js';
import { IngestionError } from './extract.js';
import type { PrepareReply, PrepareRequest } from './prepare-protocol.js';

/** Worker threads for files being prepared at once: enough to keep one core busy, leaving the others. */
export const PREPARE_THREADS = Math.max(1, Math.min(2, availableParallelism() - 1));

/**
 * Turns files into chunks (text extraction, then chunking) on worker threads, so that a large PDF
 * never stalls the requests this process serves. Workers start on first use and stay for the next
 * file; a worker that crashes (a file that exhausts its memory) fails that file and is replaced.
 */
export class PreparePool {
  readonly #queue: PQueue;
  readonly #idle: Worker[] = [];
  #closed = false;

  constructor(threads = PREPARE_THREADS) {
    this.#queue = new PQueue({ concurrency: threads });
  }

  prepare(filename: string, bytes: Buffer, chunking: ChunkingOptions): Promise<Chunk[]> {
    return this.#queue.add(() => this.#onWorker({ filename, bytes, chunking }));
  }

  async #onWorker(request: PrepareRequest): Promise<Chunk[]> {
    if (this.#closed) throw new IngestionError('server_error', 'The server is shutting down.');
    const worker = this.#idle.pop() ?? startWorker(import.meta.url, 'prepare-worker');
    worker.ref();
    let reply: PrepareReply;
    try {
      reply = await answer(worker, request);
    } catch (error) {
      await worker.terminate();
      throw error;
    }
    worker.unref();
    if (this.#closed) await worker.terminate();
    else this.#idle.push(worker);
    if ('chunks' in reply) return reply.chunks;
    throw reply.error.code ? new IngestionError(reply.error.code, reply.error.message) : new Error(reply.error.message);
  }

  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all(this.#idle.splice(0).map((worker) => worker.terminate()));
  }
}

/** Sends one request to the worker and waits for its reply, or for its death. */
function answer(worker: Worker, request: PrepareRequest): Promise<PrepareReply> {
  return new Promise((resolve, reject) => {
    const onMessage = (reply: PrepareReply): void => settle(() => resolve(reply));
    const onError = (error: Error): void => settle(() => reject(new IngestionError('server_error', `Reading the file stopped its worker: ${error.message}`)));
    const onExit = (code: number): void => settle(() => reject(new IngestionError('server_error', `Reading the file stopped its worker (exit code ${code}).`)));
    const settle = (done: () => void): void => {
      // Only our own listeners: removeAllListeners() would also drop Worker's internal ones.
      worker.off('message', onMessage).off('error', onError).off('exit', onExit);
      done();
    };
    worker.on('message', onMessage).on('error', onError).on('exit', onExit);
    worker.postMessage(request);
  });
}
