import type { Run, RunStatus } from '../spec/wire.js';
import type { Store } from '../store/store.js';

/** Statuses a run never leaves. */
export const TERMINAL_RUN_STATUSES: readonly RunStatus[] = ['completed', 'incomplete', 'failed', 'cancelled', 'expired'];

/** Statuses that hold the thread: at most one such run per thread. */
export const ACTIVE_RUN_STATUSES: readonly RunStatus[] = ['queued', 'in_progress', 'requires_action', 'cancelling'];

export function isTerminal(status: RunStatus): boolean {
  return TERMINAL_RUN_STATUSES.includes(status);
}

export async function activeRun(store: Store, projectId: string, threadId: string): Promise<Run | undefined> {
  for (const status of ACTIVE_RUN_STATUSES) {
    const [run] = await store.runs.all(projectId, { thread_id: threadId, status });
    if (run) return run;
  }
  return undefined;
}
