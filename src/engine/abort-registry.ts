/** Abort controllers of the jobs running (or waiting) in this process, by key. */
export class AbortRegistry<Reason extends string> {
  readonly #controllers = new Map<string, AbortController>();

  /** Registers a job under `key`; call `done` when it ends. */
  start(key: string): { signal: AbortSignal; done: () => void } {
    const controller = new AbortController();
    this.#controllers.set(key, controller);
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

  abortAll(reason: Reason): void {
    for (const key of [...this.#controllers.keys()]) this.abort(key, reason);
  }
}
