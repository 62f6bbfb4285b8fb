import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { AbortRegistry } from '../src/engine/abort-registry.js';

test('a stop kept for a job not registered yet aborts it as it registers, once, and only while kept', async () => {
  const registry = new AbortRegistry<'cancelled' | 'expired'>();
  registry.abortOrKeep('run_early', 'cancelled', 60_000);
  const early = registry.start('run_early');
  assert.equal(early.signal.aborted, true);
  assert.equal(early.signal.reason, 'cancelled');
  early.done();
  assert.equal(registry.start('run_early').signal.aborted, false, 'a kept stop is used up by the job it stopped');

  registry.abortOrKeep('run_lapsed', 'expired', 1);
  await sleep(20);
  assert.equal(registry.start('run_lapsed').signal.aborted, false, 'a stop past its keeping is dropped');

  const running = registry.start('run_running');
  registry.abortOrKeep('run_running', 'expired', 60_000);
  assert.equal(running.signal.reason, 'expired');
  running.done();
  assert.equal(registry.start('run_running').signal.aborted, false, 'a stop that reached its job is not kept');
});
