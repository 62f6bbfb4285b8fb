import { unixSeconds } from '../clock.js';
import type { ServiceContext } from '../services/context.js';
import { ACTIVE_RUN_STATUSES } from '../services/run-status.js';
import { Files } from '../services/files.js';
import { expireRun } from '../services/runs.js';
import { Uploads } from '../services/uploads.js';
import { RunRecorder } from './recorder.js';
import { prepareTakeover } from './takeover.js';

/** Expires every active run whose `expires_at` has passed. */
async function sweepExpiredRuns(ctx: ServiceContext): Promise<void> {
  for (const { projectId, runId } of await ctx.store.runsWithStatus(ACTIVE_RUN_STATUSES, unixSeconds(ctx.clock))) {
    const run = await ctx.store.runs.get(projectId, runId);
    if (run) await expireRun(ctx, projectId, run);
  }
}

/**
 * Ends what time has run out on: active runs past `expires_at` expire; files past `expires_at` are
 * deleted, as if deleted through the API; pending uploads past their hour expire and lose their parts.
 */
export async function sweepExpired(ctx: ServiceContext): Promise<void> {
  await sweepExpiredRuns(ctx);
  const now = unixSeconds(ctx.clock);
  const files = new Files(ctx);
  for (const { projectId, id } of await ctx.store.filesExpiredBy(now)) await files.remove(projectId, id);
  const uploads = new Uploads(ctx);
  for (const { projectId, id } of await ctx.store.uploadsExpiredBy(now)) await uploads.expire(projectId, id);
}

/**
 * Settles the runs a previous process left behind: queued runs are queued again; a run that was
 * executing is taken over (its cut-off model call is made again); a pending cancel ends. Runs
 * waiting for tool outputs keep waiting (their expiry still applies).
 */
export async function recoverRuns(ctx: ServiceContext): Promise<void> {
  for (const ref of await ctx.store.runsWithStatus(['queued', 'in_progress', 'cancelling'])) {
    const run = await ctx.store.runs.get(ref.projectId, ref.runId);
    if (!run) continue;
    if (run.status === 'cancelling') {
      await new RunRecorder(ctx.store, ctx.bus, ctx.clock, ref.projectId, run).finish('cancelled');
      continue;
    }
    if (run.status === 'in_progress') await prepareTakeover(ctx, ref, await ctx.store.recordTakeover(ref));
    ctx.scheduler.enqueue(ref.projectId, ref.runId);
  }
}
