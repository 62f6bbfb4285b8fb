import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RunExecutor } from '../src/engine/run-executor.js';
import { RunQueue } from '../src/engine/run-queue.js';
import type { Run } from '../src/spec/wire.js';
import { eventually } from './support/harness.js';

/** An executor whose executions last until the test ends them, each by its run's id. */
function heldExecutor(): { executor: RunExecutor; executing: Map<string, () => void> } {
  const executing = new Map<string, () => void>();
  const execute = ({ runId }: { runId: string }) => new Promise<void>((resolve) => executing.set(runId, resolve));
  return { executor: { execute } as unknown as RunExecutor, executing };
}

const started = (id: string) => ({ run: { id, status: 'in_progress' } as Run, started: true });

test('the run queue holds a slot for each run created to start at once, and gives back the slots it ends or releases', async () => {
  const { executor, executing } = heldExecutor();
  const queue = new RunQueue(executor, 2, () => {});
  assert.equal(queue.reserve(), true);
  assert.equal(queue.reserve(), true);
  assert.equal(queue.reserve(), false, 'both slots are held');
  queue.release();
  assert.equal(queue.reserve(), true, 'a released slot is free again');

  queue.enqueue('proj', 'run_a', started('run_a'));
  queue.enqueue('proj', 'run_b', started('run_b'));
  await eventually(async () => (executing.size === 2 ? true : undefined));
  assert.equal(queue.reserve(), false, 'both slots execute their runs');

  queue.enqueue('proj', 'run_c');
  assert.equal(queue.reserve(), false, 'a run waits for a slot');
  executing.get('run_a')!();
  await eventually(async () => (executing.has('run_c') ? true : undefined));
  assert.equal(queue.reserve(), false, 'the waiting run took the slot that was freed');
  executing.get('run_b')!();
  await eventually(async () => (queue.reserve() ? true : undefined));
  assert.equal(queue.reserve(), false);
  executing.get('run_c')!();
  await queue.close();
});
