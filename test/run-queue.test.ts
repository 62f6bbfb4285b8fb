import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RunExecutor } from '../src/engine/run-executor.js';
import { RunQueue } from '../src/engine/run-queue.js';
import type { Run } from '../src/spec/wire.js';
import { eventually } from './support/harness.js';

/** An executor whose executions last until the test ends them, each by its run's id, with the signal each got. */
function heldExecutor(): { executor: RunExecutor; executing: Map<string, { end: () => void; signal: AbortSignal }> } {
  const executing = new Map<string, { end: () => void; signal: AbortSignal }>();
  const execute = ({ runId }: { runId: string }, signal: AbortSignal) => new Promise<void>((end) => executing.set(runId, { end, signal }));
  return { executor: { execute } as unknown as RunExecutor, executing };
}

const started = (id: string) => ({ run: { id, status: 'in_progress' } as Run, started: true });
const executingNow = (executing: Map<string, unknown>, ...ids: string[]) => eventually(async () => (ids.every((id) => executing.has(id)) ? true : undefined));

test('a slot reserved for a run being created is its own: runs queued meanwhile wait for another, and a release frees it', async () => {
  const { executor, executing } = heldExecutor();
  const queue = new RunQueue(executor, 2, () => {});
  assert.equal(queue.reserve('run_a'), true);
  assert.equal(queue.reserve('run_b'), true);
  assert.equal(queue.reserve('run_c'), false, 'both slots are held');
  queue.release('run_b');
  // The slot's placeholder job ends a few microtasks after the release.
  await eventually(async () => (queue.reserve('run_b') ? true : undefined));

  // Queued while both slots are held: it waits, and the runs that reserved start at once.
  queue.enqueue('proj', 'run_x');
  queue.enqueue('proj', 'run_a', started('run_a'));
  queue.enqueue('proj', 'run_b', started('run_b'));
  await executingNow(executing, 'run_a', 'run_b');
  assert.equal(executing.has('run_x'), false, 'run_x waits for a slot');
  assert.equal(queue.reserve('run_d'), false, 'a run waits, so no slot is free');

  executing.get('run_a')!.end();
  await executingNow(executing, 'run_x');
  executing.get('run_b')!.end();
  executing.get('run_x')!.end();
  await eventually(async () => (queue.reserve('run_e') ? true : undefined));
  await queue.close();
});

test('an abort of a run whose slot is reserved reaches its execution, which starts aborted', async () => {
  const { executor, executing } = heldExecutor();
  const queue = new RunQueue(executor, 1, () => {});
  assert.equal(queue.reserve('run_a'), true);
  assert.equal(await queue.abort('run_a', 'cancelled'), true, 'the reserved run is known here before it is enqueued');
  queue.enqueue('proj', 'run_a', started('run_a'));
  await executingNow(executing, 'run_a');
  assert.equal(executing.get('run_a')!.signal.reason, 'cancelled');
  executing.get('run_a')!.end();
  await queue.close();
});
