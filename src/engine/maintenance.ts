import { unixSeconds } from '../clock.js';
import type { ServiceContext } from '../services/context.js';
import { ACTIVE_RUN_STATUSES } from '../services/run-status.js';
import { expireRun } from '../services/runs.js';
import { RunRecorder } from './recorder.js';

/** Expires every active run whose `expires_at` has passed. */
export async function sweepExpiredRuns(ctx: ServiceContext): Promise<number> {
  const due = await ctx.store.runsWithStatus(ACTIVE_RUN_STATUSES, unixSeconds(ctx.clock));
  for (const { projectId, runId } of due) {
    const run = await ctx.store.runs.get(projectId, runId);
    if (run) await expireRun(ctx, projectId, run);
  }
  return due.length;
}

/**
 * Settles the runs a previous process left behind: queued runs are queued again; a run that was
 * executing cannot be resumed mid-stream, so it fails with a clear error; a pending cancel ends.
 * Runs waiting for tool outputs keep waiting (their expiry still applies).
 */
export async function recoverRuns(ctx: ServiceContext): Promise<void> {
  for (const { projectId, runId } of await ctx.store.runsWithStatus(['queued', 'in_progress', 'cancelling'])) {
    const run = await ctx.store.runs.get(projectId, runId);
    if (!run) continue;
    const recorder = new RunRecorder(ctx.store, ctx.bus, ctx.clock, projectId, run);
    if (run.status === 'queued') ctx.scheduler.enqueue(projectId, runId);
    else if (run.status === 'cancelling') await recorder.finish('cancelled');
    else {
      await recorder.finish('failed', {
        last_error: { code: 'server_error', message: 'The server stopped while this run was in progress, so the run was interrupted. Create a new run to continue.' },
      });
    }
  }
}
