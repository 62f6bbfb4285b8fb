import PQueue from 'p-queue';
import { AbortRegistry } from './abort-registry.js';

/**
 * Background jobs with bounded concurrency (p-queue), each abortable by key. A job gets its abort
 * controller when queued, so an abort reaches it even before it starts; the job itself decides
 * what an abort means (its signal's reason says why).
 */
export class AbortableQueue<Reason extends string> {
  readonly #queue: PQueue;
  readonly #running = new AbortRegistry<Reason>();

  constructor(
    concurrency: number,
    readonly log: (message: string, error?: unknown) => void,
  ) {
    this.#queue = new PQueue({ concurrency: Math.max(1, concurrency) });
  }

  add(key: string, job: (signal: AbortSignal) => Promise<void>): void {
    const { signal, done } = this.#running.start(key);
    void this.#queue.add(async () => {
      try {
        await job(signal);
      } catch (error) {
        this.log(`${key}: background job failed`, error);
      } finally {
        done();
      }
    });
  }

  /** How many more jobs would start at once. */
  get idleSlots(): number {
    return this.#queue.concurrency - this.#queue.pending - this.#queue.size;
  }

  /** False when no job of that key is queued or running here. */
  abort(key: string, reason: Reason): boolean {
    return this.#running.abort(key, reason);
  }

  /** Aborts every job with `reason` and waits for the running ones to return. */
  async close(reason: Reason): Promise<void> {
    this.#running.abortAll(reason);
    this.#queue.clear();
    await this.#queue.onIdle();
  }
}
