import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EventBus } from '../src/events.js';

test('a subscriber that throws neither stops the publisher nor the other subscribers', (t) => {
  t.mock.method(console, 'error', () => undefined);
  const bus = new EventBus();
  const seen: string[] = [];
  bus.subscribe('run_1', () => {
    throw new Error('broken stream');
  });
  const unsubscribe = bus.subscribe('run_1', (event) => seen.push(event.event));
  bus.subscribe('run_2', (event) => seen.push(`other ${event.event}`));
  assert.doesNotThrow(() => bus.publish('run_1', 'thread.run.in_progress', {}));
  unsubscribe();
  bus.publish('run_1', 'thread.run.completed', {});
  assert.deepEqual(seen, ['thread.run.in_progress']);
});
