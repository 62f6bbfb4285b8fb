import { MAX_TAKEOVERS } from '../store/leases.js';
import type { RunRef } from '../store/store.js';
import type { ExecutorDeps } from './run-executor.js';
import { RunRecorder } from './recorder.js';

/**
 * Readies a run for another execution after the process executing it stopped midway (a worker
 * whose lease lapsed, or the embedded server before a restart). Only a run still `in_progress` needs
 * it: a run is in that status only while an execution, or the claim that started it, holds it. The model call that was cut off is
 * discarded, with its unfinished step and message, and the run is queued again, so the new
 * execution calls the model afresh and nothing is recorded twice. A run that keeps stopping the
 * processes executing it fails with `last_error` instead.
 */
export async function prepareTakeover({ store, bus, clock }: Pick<ExecutorDeps, 'store' | 'bus' | 'clock'>, { projectId, runId }: RunRef, takeovers: number): Promise<void> {
  const run = await store.runs.get(projectId, runId);
  if (run?.status !== 'in_progress') return;
  const recorder = new RunRecorder(store, bus, clock, projectId, run);
  if (takeovers > MAX_TAKEOVERS) {
    const message = `The process executing this run stopped ${takeovers} times, so the run was given up. Create a new run to continue.`;
    return recorder.finish('failed', { last_error: { code: 'server_error', message } });
  }
  await store.transaction(async (trx) => {
    for (const step of await trx.steps.all(projectId, { run_id: runId })) {
      if (step.status !== 'in_progress') continue;
      if (step.step_details.type === 'message_creation') await trx.messages.delete(projectId, step.step_details.message_creation.message_id);
      await trx.steps.delete(projectId, step.id);
    }
  });
  await recorder.transition('in_progress', { status: 'queued' });
}
