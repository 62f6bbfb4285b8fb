/** Abort controllers of the jobs running (or waiting) in this process, by key. */
export class AbortRegistry<Reason extends string> {
  readonly #controllers = new Map<string, AbortController>();
  /** Stops that came for jobs not registered (yet), kept until `until` (performance.now()). */
  readonly #early = new Map<string, { reason: Reason; until: number }>();

  /** Registers a job under `key`, aborted at once by a stop `abortOrKeep` kept for it; call `done` when it ends. */
  start(key: string): { signal: AbortSignal; done: () => void } {
    const controller = new AbortController();
    this.#controllers.set(key, controller);
    const early = this.#early.get(key);
    this.#early.delete(key);
    if (early && early.until >= performance.now()) controller.abort(early.reason);
    return {
      signal: controller.signal,
      done: () => {
        if (this.#controllers.get(key) === controller) this.#controllers.delete(key);
      },
    };
  }

  has(key: string): boolean {
    return this.#controllers.has(key);
  }

  /** False when no job of that key is registered here. */
  abort(key: string, reason: Reason): boolean {
    const controller = this.#controllers.get(key);
    if (!controller) return false;
    controller.abort(reason);
    return true;
  }

  /**
   * `abort`, or, when no job of that key is registered here, keeps the stop for `keepMs`, so that
   * a job registered meanwhile starts aborted: a stop sent over another connection than the one
   * that hands the job over (a worker's claim) may overtake it.
   */
  abortOrKeep(key: string, reason: Reason, keepMs: number): void {
    if (this.abort(key, reason)) return;
    const now = performance.now();
    for (const [kept, { until }] of this.#early) if (until < now) this.#early.delete(kept);
    this.#early.set(key, { reason, until: now + keepMs });
  }

  abortAll(reason: Reason): void {
    for (const key of [...this.#controllers.keys()]) this.abort(key, reason);
  }
}
