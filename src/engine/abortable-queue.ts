import PQueue from 'p-queue';

/**
 * Background jobs with bounded concurrency (p-queue), each abortable by key. A job gets its abort
 * controller when queued, so an abort reaches it even before it starts; the job itself decides
 * what an abort means (its signal's reason says why).
 */
export class AbortableQueue<Reason extends string> {
  readonly #queue: PQueue;
  readonly #controllers = new Map<string, AbortController>();

  constructor(
    concurrency: number,
    readonly log: (message: string, error?: unknown) => void,
  ) {
    this.#queue = new PQueue({ concurrency: Math.max(1, concurrency) });
  }

  add(key: string, job: (signal: AbortSignal) => Promise<void>): void {
    const controller = new AbortController();
    this.#controllers.set(key, controller);
    void this.#queue.add(async () => {
      try {
        await job(controller.signal);
      } catch (error) {
        this.log(`${key}: background job failed`, error);
      } finally {
        if (this.#controllers.get(key) === controller) this.#controllers.delete(key);
      }
    });
  }

  /** False when no job of that key is queued or running here. */
  abort(key: string, reason: Reason): boolean {
    const controller = this.#controllers.get(key);
    if (!controller) return false;
    controller.abort(reason);
    return true;
  }

  /** Aborts every job with `reason` and waits for the running ones to return. */
  async close(reason: Reason): Promise<void> {
    for (const key of [...this.#controllers.keys()]) this.abort(key, reason);
    this.#queue.clear();
    await this.#queue.onIdle();
  }
}
