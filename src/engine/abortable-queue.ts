import PQueue from 'p-queue';
import { AbortRegistry } from './abort-registry.js';

type Job = (signal: AbortSignal) => Promise<void>;

/** A slot `AbortableQueue.hold` took: it runs the job given to `start`, or frees itself on `release`. */
export interface HeldSlot {
  start(job: Job): void;
  release(): void;
}

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

  add(key: string, job: Job): void {
    this.#add(key, job);
  }

  /**
   * Takes a free slot now, if there is one, for a job of `key` given later: jobs added meanwhile
   * wait for other slots, and an abort of `key` already reaches the job's signal.
   */
  hold(key: string): HeldSlot | undefined {
    if (this.#queue.pending + this.#queue.size >= this.#queue.concurrency) return undefined;
    let give!: (job: Job | undefined) => void;
    const given = new Promise<Job | undefined>((resolve) => (give = resolve));
    // p-queue starts a job within `add` while a slot is free: the slot is taken before `hold` returns.
    this.#add(key, given);
    return { start: (job) => give(job), release: () => give(undefined) };
  }

  /** `job`: the job, or what gives it (nothing: the slot is released). */
  #add(key: string, job: Job | Promise<Job | undefined>): void {
    const { signal, done } = this.#running.start(key);
    void this.#queue.add(async () => {
      try {
        await (typeof job === 'function' ? job : await job)?.(signal);
      } catch (error) {
        this.log(`${key}: background job failed`, error);
      } finally {
        done();
      }
    });
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
