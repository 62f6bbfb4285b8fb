import type { Run, RunStatus } from '../spec/wire.js';
import { ApiError } from '../errors.js';
import type { Store } from '../store/store.js';

/** Statuses a run never leaves. */
export const TERMINAL_RUN_STATUSES: readonly RunStatus[] = ['completed', 'incomplete', 'failed', 'cancelled', 'expired'];

/** Statuses that hold the thread: at most one such run per thread. */
export const ACTIVE_RUN_STATUSES: readonly RunStatus[] = ['queued', 'in_progress', 'requires_action', 'cancelling'];

export function isTerminal(status: RunStatus): boolean {
  return TERMINAL_RUN_STATUSES.includes(status);
}

/**
 * A project may hold only so many active runs (0: any number); past that, creating one is a 429.
 * Inside the transaction that adds the run: the project's lock keeps another create from counting
 * in between.
 */
export async function checkRunCapacity(store: Store, projectId: string, maxActiveRuns: number): Promise<void> {
  if (maxActiveRuns === 0) return;
  await store.lockProject(projectId);
  const active = await store.countRuns(projectId, ACTIVE_RUN_STATUSES);
  if (active >= maxActiveRuns) {
    throw new ApiError(429, `This project already has ${active} active runs, the most it may have at once. Retry when one of them has ended.`, 'requests', null, 'too_many_active_runs');
  }
}

/**
 * Does `write` as the project's cap on active runs allows: in a transaction after the check
 * when a cap is set, else on its own (a single statement then needs no transaction).
 */
export function underRunCapacity<T>(store: Store, projectId: string, maxActiveRuns: number, write: (store: Store) => Promise<T>): Promise<T> {
  if (maxActiveRuns === 0) return write(store);
  return store.transaction(async (trx) => {
    await checkRunCapacity(trx, projectId, maxActiveRuns);
    return write(trx);
  });
}

export async function activeRun(store: Store, projectId: string, threadId: string): Promise<Run | undefined> {
  for (const status of ACTIVE_RUN_STATUSES) {
    const [run] = await store.runs.all(projectId, { thread_id: threadId, status });
    if (run) return run;
  }
  return undefined;
}
