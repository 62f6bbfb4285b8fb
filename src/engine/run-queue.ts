import type { AbortReason, CreatedRun, RunScheduler } from '../services/context.js';
import { AbortableQueue } from './abortable-queue.js';
import type { RunExecutor, StopReason } from './run-executor.js';

/** The embedded default's run queue: runs execute in this process, a bounded number at once. */
export class RunQueue implements RunScheduler {
  readonly #jobs: AbortableQueue<StopReason>;
  /** Slots held by `reserve` for runs being created. */
  #reserved = 0;

  constructor(
    readonly executor: RunExecutor,
    concurrency: number,
    log: (message: string, error?: unknown) => void,
  ) {
    this.#jobs = new AbortableQueue(concurrency, log);
  }

  reserve(): boolean {
    if (this.#jobs.idleSlots <= this.#reserved) return false;
    this.#reserved++;
    return true;
  }

  release(): void {
    this.#reserved--;
  }

  enqueue(projectId: string, runId: string, created?: CreatedRun): void {
    if (created?.started) this.#reserved--;
    this.#jobs.add(runId, (signal) => this.executor.execute({ projectId, runId }, signal, created));
  }

  async abort(runId: string, reason: AbortReason): Promise<boolean> {
    return this.#jobs.abort(runId, reason);
  }

  /** Stops every execution; their runs are settled by recovery at the next start. */
  close(): Promise<void> {
    return this.#jobs.close('shutdown');
  }
}
