import type { AbortReason, CreatedRun, RunScheduler } from '../services/context.js';
import { AbortableQueue, type HeldSlot } from './abortable-queue.js';
import type { RunExecutor, StopReason } from './run-executor.js';

/** The embedded default's run queue: runs execute in this process, a bounded number at once. */
export class RunQueue implements RunScheduler {
  readonly #jobs: AbortableQueue<StopReason>;
  /** Slots held by `reserve`, by the id of the run being created. */
  readonly #held = new Map<string, HeldSlot>();

  constructor(
    readonly executor: RunExecutor,
    concurrency: number,
    log: (message: string, error?: unknown) => void,
  ) {
    this.#jobs = new AbortableQueue(concurrency, log);
  }

  reserve(runId: string): boolean {
    const held = this.#jobs.hold(runId);
    if (held) this.#held.set(runId, held);
    return held !== undefined;
  }

  release(runId: string): void {
    this.#take(runId)?.release();
  }

  enqueue(projectId: string, runId: string, created?: CreatedRun): void {
    const job = async (signal: AbortSignal) => {
      await this.executor.execute({ projectId, runId }, signal, created);
    };
    const held = this.#take(runId);
    if (held) held.start(job);
    else this.#jobs.add(runId, job);
  }

  /** The slot held for the run, no longer held here once taken. */
  #take(runId: string): HeldSlot | undefined {
    const held = this.#held.get(runId);
    this.#held.delete(runId);
    return held;
  }

  async abort(runId: string, reason: AbortReason): Promise<boolean> {
    return this.#jobs.abort(runId, reason);
  }

  /** Stops every execution; their runs are settled by recovery at the next start. */
  close(): Promise<void> {
    for (const runId of [...this.#held.keys()]) this.release(runId);
    return this.#jobs.close('shutdown');
  }
}
