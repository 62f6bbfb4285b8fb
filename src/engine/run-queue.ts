import PQueue from 'p-queue';
import type { AbortReason, RunScheduler } from '../services/context.js';
import type { RunExecutor, StopReason } from './run-executor.js';

/**
 * The embedded default's run queue: in process, bounded concurrency (p-queue). Each queued run gets
 * its abort controller at once, so a cancel reaches it even before it starts.
 */
export class RunQueue implements RunScheduler {
  readonly #queue: PQueue;
  readonly #controllers = new Map<string, AbortController>();

  constructor(
    readonly executor: RunExecutor,
    concurrency: number,
    readonly log: (message: string, error?: unknown) => void,
  ) {
    this.#queue = new PQueue({ concurrency: Math.max(1, concurrency) });
  }

  enqueue(projectId: string, runId: string): void {
    const controller = new AbortController();
    this.#controllers.set(runId, controller);
    void this.#queue.add(async () => {
      try {
        await this.executor.execute({ projectId, runId }, controller.signal);
      } catch (error) {
        this.log(`run ${runId}: executor error`, error);
      } finally {
        if (this.#controllers.get(runId) === controller) this.#controllers.delete(runId);
      }
    });
  }

  abort(runId: string, reason: AbortReason): boolean {
    return this.#stop(runId, reason);
  }

  #stop(runId: string, reason: StopReason): boolean {
    const controller = this.#controllers.get(runId);
    if (!controller) return false;
    controller.abort(reason);
    return true;
  }

  /** Stops every execution; their runs are settled by recovery at the next start. */
  async close(): Promise<void> {
    for (const runId of [...this.#controllers.keys()]) this.#stop(runId, 'shutdown');
    this.#queue.clear();
    await this.#queue.onIdle();
  }
}
