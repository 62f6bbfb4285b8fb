import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import OpenAI from 'openai';
import type { Message } from 'openai/resources/beta/threads/messages';
import type { Run } from 'openai/resources/beta/threads/runs/runs';
import pg from 'pg';
import { assertMatchesSpec, eventually, type Harness, ManualClock, startHarness } from './support/harness.js';
import { TEST_DATABASE_URL } from './support/test-database.js';

let h: Harness;
before(async () => {
  h = await startHarness();
});
after(() => h.close());

const POLL = { pollIntervalMs: 20 };
const weather = { type: 'function' as const, function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } };

function textOf(message: Message | undefined): string {
  const part = message?.content[0];
  return part?.type === 'text' ? part.text.value : '';
}

async function setup(harness: Harness, tools: (typeof weather)[] = [], ...texts: string[]) {
  const assistant = await harness.client.beta.assistants.create({ model: 'gpt-4o', instructions: 'Be brief.', tools });
  const messages = (texts.length > 0 ? texts : ['Hello']).map((content) => ({ role: 'user' as const, content }));
  const thread = await harness.client.beta.threads.create({ messages });
  return { assistant, thread };
}

async function waitForStatus(harness: Harness, run: Run, status: Run['status']): Promise<Run> {
  return eventually(async () => {
    const current = await harness.client.beta.threads.runs.retrieve(run.id, { thread_id: run.thread_id });
    return current.status === status ? current : undefined;
  });
}

async function stepsOf(harness: Harness, run: Run) {
  return (await harness.client.beta.threads.runs.steps.list(run.id, { thread_id: run.thread_id, order: 'asc' })).data;
}

async function runMessages(harness: Harness, run: Run): Promise<Message[]> {
  return (await harness.client.beta.threads.messages.list(run.thread_id, { run_id: run.id })).data;
}

/** The non-system messages of a recorded model request, as role and text. */
function promptOf(index: number): [string, unknown][] {
  return h.model.requests[index]!.body.messages.filter((message) => message.role !== 'system').map((message) => [message.role, message.content]);
}

test('cancelling a run that is streaming ends it cancelled, with its step cancelled and its message incomplete', async () => {
  const { assistant, thread } = await setup(h);
  h.model.script({ text: ['Once ', 'upon ', 'a ', 'time'], chunkDelayMs: 60_000 });
  const run = await h.client.beta.threads.runs.create(thread.id, { assistant_id: assistant.id });
  await eventually(async () => ((await stepsOf(h, run)).length > 0 ? true : undefined));

  const cancelling = await h.client.beta.threads.runs.cancel(run.id, { thread_id: thread.id });
  assertMatchesSpec('RunObject', cancelling);
  assert.equal(cancelling.status, 'cancelling');
  const cancelled = await waitForStatus(h, run, 'cancelled');
  assertMatchesSpec('RunObject', cancelled);
  assert.equal(typeof cancelled.cancelled_at, 'number');
  assert.equal(cancelled.expires_at, null);
  assert.equal(cancelled.completed_at, null);

  const [step] = await stepsOf(h, run);
  assertMatchesSpec('RunStepObject', step);
  assert.equal(step!.status, 'cancelled');
  assert.equal(typeof step!.cancelled_at, 'number');
  const [message] = await runMessages(h, run);
  assertMatchesSpec('MessageObject', message);
  assert.equal(message!.status, 'incomplete');
  assert.deepEqual(message!.incomplete_details, { reason: 'run_cancelled' });
  assert.equal(typeof message!.incomplete_at, 'number');
  // What was streamed before the cancel is kept.
  assert.equal(textOf(message), 'Once ');
  // The thread is free again.
  h.model.script({ text: 'next' });
  assert.equal((await h.client.beta.threads.runs.createAndPoll(thread.id, { assistant_id: assistant.id }, POLL)).status, 'completed');
});

test('cancelling a run waiting on the model before any output ends it cancelled with no steps', async () => {
  const { assistant, thread } = await setup(h);
  h.model.script({ hang: true });
  const run = await h.client.beta.threads.runs.create(thread.id, { assistant_id: assistant.id });
  await waitForStatus(h, run, 'in_progress');
  assert.equal((await h.client.beta.threads.runs.cancel(run.id, { thread_id: thread.id })).status, 'cancelling');
  const cancelled = await waitForStatus(h, run, 'cancelled');
  assert.equal(typeof cancelled.cancelled_at, 'number');
  assert.deepEqual(await stepsOf(h, run), []);
  assert.deepEqual(await runMessages(h, run), []);
});

test('cancelling a run still waiting in the queue ends it at once', async () => {
  const solo = await startHarness({ env: { STEPWISE_RUN_CONCURRENCY: '1' } });
  try {
    const busy = await setup(solo);
    const waiting = await setup(solo);
    solo.model.script({ hang: true });
    const executing = await solo.client.beta.threads.runs.create(busy.thread.id, { assistant_id: busy.assistant.id });
    await waitForStatus(solo, executing, 'in_progress');
    const queued = await solo.client.beta.threads.runs.create(waiting.thread.id, { assistant_id: waiting.assistant.id });
    await solo.client.beta.threads.runs.cancel(queued.id, { thread_id: queued.thread_id });
    const cancelled = await waitForStatus(solo, queued, 'cancelled');
    assert.equal(typeof cancelled.cancelled_at, 'number');
    assert.equal(cancelled.started_at, null);
    await solo.client.beta.threads.runs.cancel(executing.id, { thread_id: executing.thread_id });
    await waitForStatus(solo, executing, 'cancelled');
    assert.equal(solo.model.requests.length, 1, 'the cancelled run never reached the model');
  } finally {
    await solo.close();
  }
});

test('a run changed while it waits in the queue executes as stored: the metadata set meanwhile stays, and a new thread answers from its messages', async () => {
  const solo = await startHarness({ env: { STEPWISE_RUN_CONCURRENCY: '1' } });
  try {
    const busy = await setup(solo);
    solo.model.script({ hang: true }, { text: ['Oslo it is.'] });
    const executing = await solo.client.beta.threads.runs.create(busy.thread.id, { assistant_id: busy.assistant.id });
    await waitForStatus(solo, executing, 'in_progress');
    // Created with its thread, so the creating request holds the run and the thread's messages.
    const queued = await solo.client.beta.threads.createAndRun({
      assistant_id: busy.assistant.id,
      thread: { messages: [{ role: 'user', content: 'Where to?' }] },
      metadata: { asked: 'first' },
    });
    await solo.client.beta.threads.runs.update(queued.id, { thread_id: queued.thread_id, metadata: { asked: 'first', changed: 'while queued' } });
    await solo.client.beta.threads.runs.cancel(executing.id, { thread_id: executing.thread_id });
    const done = await waitForStatus(solo, queued, 'completed');
    assert.deepEqual(done.metadata, { asked: 'first', changed: 'while queued' });
    const [answer] = await runMessages(solo, done);
    assert.equal(textOf(answer), 'Oslo it is.');
    const prompt = solo.model.requests[1]!.body.messages;
    assert.deepEqual(prompt.filter((message) => message.role === 'user').map((message) => message.content), ['Where to?']);
  } finally {
    await solo.close();
  }
});

test('cancelling a run in requires_action cancels it and its tool step; a finished run cannot be cancelled', async () => {
  const { assistant, thread } = await setup(h, [weather]);
  h.model.script({ toolCalls: [{ name: 'get_weather', arguments: '{"city":"Oslo"}' }] });
  const paused = await h.client.beta.threads.runs.createAndPoll(thread.id, { assistant_id: assistant.id }, POLL);
  assert.equal(paused.status, 'requires_action');
  await h.client.beta.threads.runs.cancel(paused.id, { thread_id: thread.id });
  const cancelled = await waitForStatus(h, paused, 'cancelled');
  assertMatchesSpec('RunObject', cancelled);
  assert.equal(cancelled.required_action, null);
  const [step] = await stepsOf(h, paused);
  assert.equal(step!.type, 'tool_calls');
  assert.equal(step!.status, 'cancelled');
  assert.equal(typeof step!.cancelled_at, 'number');

  await assert.rejects(h.client.beta.threads.runs.cancel(paused.id, { thread_id: thread.id }), (error: unknown) => error instanceof OpenAI.APIError && error.status === 400);
  h.model.script({ text: 'done' });
  const completed = await h.client.beta.threads.runs.createAndPoll(thread.id, { assistant_id: assistant.id }, POLL);
  assert.equal(completed.status, 'completed');
  await assert.rejects(h.client.beta.threads.runs.cancel(completed.id, { thread_id: thread.id }), (error: unknown) => error instanceof OpenAI.APIError && error.status === 400 && /completed/.test(error.message));
  assert.equal((await h.client.beta.threads.runs.retrieve(completed.id, { thread_id: thread.id })).status, 'completed');
});

test('runs left in requires_action expire: on read, and by the sweep', async () => {
  const clock = new ManualClock();
  const timed = await startHarness({ clock });
  try {
    const { assistant, thread } = await setup(timed, [weather]);
    timed.model.script({ toolCalls: [{ name: 'get_weather', arguments: '{}' }] });
    const paused = await timed.client.beta.threads.runs.createAndPoll(thread.id, { assistant_id: assistant.id }, POLL);
    assert.equal(paused.status, 'requires_action');
    assert.equal(paused.expires_at, paused.created_at + 600);
    clock.advanceSeconds(599);
    assert.equal((await timed.client.beta.threads.runs.retrieve(paused.id, { thread_id: thread.id })).status, 'requires_action');
    clock.advanceSeconds(2);
    const expired = await timed.client.beta.threads.runs.retrieve(paused.id, { thread_id: thread.id });
    assertMatchesSpec('RunObject', expired);
    assert.equal(expired.status, 'expired');
    assert.equal(expired.required_action, null);
    const [step] = await stepsOf(timed, paused);
    assertMatchesSpec('RunStepObject', step);
    assert.equal(step!.status, 'expired');
    assert.equal(step!.expired_at, paused.created_at + 601);
    await assert.rejects(
      timed.client.beta.threads.runs.submitToolOutputs(paused.id, { thread_id: thread.id, tool_outputs: [{ tool_call_id: paused.required_action!.submit_tool_outputs.tool_calls[0]!.id, output: 'late' }] }),
      (error: unknown) => error instanceof OpenAI.APIError && error.status === 400,
    );

    timed.model.script({ toolCalls: [{ name: 'get_weather', arguments: '{}' }] });
    const second = await timed.client.beta.threads.runs.createAndPoll(thread.id, { assistant_id: assistant.id }, POLL);
    assert.equal(second.status, 'requires_action');
    clock.advanceSeconds(601);
    await timed.stepwise.sweepExpired();
    // The list reads the store as it is: the sweep itself did the expiry.
    const listed = await timed.client.beta.threads.runs.list(thread.id);
    assert.deepEqual(listed.data.map((run) => [run.id, run.status]), [[second.id, 'expired'], [paused.id, 'expired']]);
    assert.equal((await stepsOf(timed, second))[0]!.status, 'expired');

    // A run still executing when its time is up expires too, and listing shows it without a sweep.
    timed.model.script({ text: ['Once ', 'upon'], chunkDelayMs: 60_000 });
    const stream = timed.client.beta.threads.runs.stream(thread.id, { assistant_id: assistant.id });
    const events: string[] = [];
    stream.on('event', (event) => events.push(event.event));
    await new Promise((resolve) => stream.once('textDelta', resolve));
    const slow = stream.currentRun()!;
    clock.advanceSeconds(601);
    const [latest] = (await timed.client.beta.threads.runs.list(thread.id)).data;
    assert.equal(latest!.id, slow.id);
    assert.equal(latest!.status, 'expired');
    assertMatchesSpec('RunObject', latest);
    assert.equal((await stream.finalRun()).status, 'expired');
    // Each piece of open work is closed once, by one actor.
    assert.deepEqual(events.slice(-3), ['thread.message.incomplete', 'thread.run.step.expired', 'thread.run.expired']);
    assert.equal(events.filter((event) => event === 'thread.message.incomplete').length, 1);
    const [slowMessage] = await runMessages(timed, slow);
    assert.equal(slowMessage!.status, 'incomplete');
    assert.deepEqual(slowMessage!.incomplete_details, { reason: 'run_expired' });
    // The text streamed before the expiry is kept, whichever lands first: the expiry or the cut-off turn's write.
    assert.equal(await eventually(async () => textOf((await runMessages(timed, slow))[0]) || undefined), 'Once ');
    assert.equal((await stepsOf(timed, slow))[0]!.status, 'expired');
  } finally {
    await timed.close();
  }
});

test(
  'on PostgreSQL, a run that expires mid-answer stays leased to its worker while the expiry closes it: no claim takes it over and discards its message',
  { skip: !TEST_DATABASE_URL && 'PostgreSQL only: the embedded runtime has no leases' },
  async () => {
    const clock = new ManualClock();
    const timed = await startHarness({ clock });
    const locker = new pg.Client({ connectionString: timed.env.DATABASE_URL });
    await locker.connect();
    const leaseOf = async (runId: string) => (await locker.query<{ lease_owner: string | null; lease_takeovers: number }>('SELECT lease_owner, lease_takeovers FROM runs WHERE id = $1', [runId])).rows[0]!;
    try {
      const { assistant, thread } = await setup(timed);
      timed.model.script({ text: ['Once ', 'upon'], chunkDelayMs: 60_000 });
      const stream = timed.client.beta.threads.runs.stream(thread.id, { assistant_id: assistant.id });
      await new Promise((resolve) => stream.once('textDelta', resolve));
      const run = stream.currentRun()!;
      // Holding the run's step row keeps the expiry between its abort and the write that ends the run.
      await locker.query('BEGIN');
      await locker.query('SELECT id FROM run_steps WHERE run_id = $1 FOR UPDATE', [run.id]);
      clock.advanceSeconds(601);
      const listing = timed.client.beta.threads.runs.list(thread.id);
      // The execution has stopped once it stores the text it streamed (it stores none before).
      await eventually(async () => {
        const { rows } = await locker.query<{ data: string }>('SELECT data FROM messages WHERE run_id = $1', [run.id]);
        return rows[0] && textOf(JSON.parse(rows[0].data)) === 'Once ' ? true : undefined;
      });
      // A lease given up now would be claimed at once, or by the next look a second later.
      for (const deadline = Date.now() + 3000; Date.now() < deadline; await sleep(50)) {
        assert.equal((await leaseOf(run.id)).lease_takeovers, 0, 'the run was taken over while its expiry was closing it');
      }
      assert.notEqual((await leaseOf(run.id)).lease_owner, null);
      await locker.query('COMMIT');

      assert.equal((await listing).data[0]!.status, 'expired');
      assert.equal((await stream.finalRun()).status, 'expired');
      const [message] = await runMessages(timed, run);
      assert.equal(textOf(message), 'Once ');
      assert.deepEqual(message!.incomplete_details, { reason: 'run_expired' });
      assert.deepEqual(await leaseOf(run.id), { lease_owner: null, lease_takeovers: 0 });
    } finally {
      await locker.end();
      await timed.close();
    }
  },
);

test(
  'on PostgreSQL, runs signalled while the worker was full start one after another as its slot frees, with no look for runs in between',
  { skip: !TEST_DATABASE_URL && 'PostgreSQL only: the embedded runtime queues runs in its process' },
  async () => {
    const solo = await startHarness({ env: { STEPWISE_RUN_CONCURRENCY: '1', STEPWISE_CLAIM_POLL_MS: '600000' } });
    try {
      const busy = await setup(solo);
      solo.model.script({ hang: true }, { text: 'one' }, { text: 'two' }, { text: 'three' });
      const executing = await solo.client.beta.threads.runs.create(busy.thread.id, { assistant_id: busy.assistant.id });
      await waitForStatus(solo, executing, 'in_progress');
      const queued = [];
      for (let index = 0; index < 3; index++) {
        const { assistant, thread } = await setup(solo);
        queued.push(await solo.client.beta.threads.runs.create(thread.id, { assistant_id: assistant.id }));
      }
      await solo.client.beta.threads.runs.cancel(executing.id, { thread_id: executing.thread_id });
      for (const run of queued) assert.equal((await waitForStatus(solo, run, 'completed')).status, 'completed');
    } finally {
      await solo.close();
    }
  },
);

test('truncation_strategy last_messages sends only the newest thread messages', async () => {
  const { assistant, thread } = await setup(h, [], 'one', 'two', 'three', 'four');
  h.model.script({ text: 'ok' });
  const index = h.model.requests.length;
  const run = await h.client.beta.threads.runs.createAndPoll(thread.id, { assistant_id: assistant.id, truncation_strategy: { type: 'last_messages', last_messages: 2 } }, POLL);
  assert.equal(run.status, 'completed');
  assert.deepEqual(promptOf(index), [['user', 'three'], ['user', 'four']]);
  assert.equal(h.model.requests[index]!.body.messages[0]!.role, 'system');
});

test('max_prompt_tokens drops the oldest messages, and a prompt that cannot fit ends the run incomplete', async () => {
  // About 105 tokens each: the budget of 256 holds the newest two.
  const long = (label: string) => `${label} ${'word '.repeat(100)}`;
  const { assistant, thread } = await setup(h, [], long('m1'), long('m2'), long('m3'), long('m4'));
  h.model.script({ text: 'short' });
  const index = h.model.requests.length;
  const run = await h.client.beta.threads.runs.createAndPoll(thread.id, { assistant_id: assistant.id, max_prompt_tokens: 256 }, POLL);
  assert.equal(run.status, 'completed');
  assert.deepEqual(promptOf(index).map(([, content]) => String(content).split(' ')[0]), ['m3', 'm4']);

  const big = await setup(h, [], 'word '.repeat(400));
  const before = h.model.requests.length;
  const incomplete = await h.client.beta.threads.runs.createAndPoll(big.thread.id, { assistant_id: big.assistant.id, max_prompt_tokens: 256 }, POLL);
  assertMatchesSpec('RunObject', incomplete);
  assert.equal(incomplete.status, 'incomplete');
  assert.deepEqual(incomplete.incomplete_details, { reason: 'max_prompt_tokens' });
  assert.equal(h.model.requests.length, before, 'the model is not called with a prompt over budget');
  assert.deepEqual(incomplete.usage, { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 });
});

test('max_completion_tokens: a reply cut at the limit leaves the run and its message incomplete', async () => {
  const { assistant, thread } = await setup(h);
  h.model.script({ text: ['It was ', 'the best'], finishReason: 'length', usage: { prompt_tokens: 10, completion_tokens: 256 } });
  const index = h.model.requests.length;
  const run = await h.client.beta.threads.runs.createAndPoll(thread.id, { assistant_id: assistant.id, max_completion_tokens: 256 }, POLL);
  assertMatchesSpec('RunObject', run);
  assert.equal(run.status, 'incomplete');
  assert.deepEqual(run.incomplete_details, { reason: 'max_completion_tokens' });
  assert.deepEqual(run.usage, { prompt_tokens: 10, completion_tokens: 256, total_tokens: 266 });
  assert.equal(h.model.requests[index]!.body.max_tokens, 256);
  const [message] = await runMessages(h, run);
  assertMatchesSpec('MessageObject', message);
  assert.equal(message!.status, 'incomplete');
  assert.deepEqual(message!.incomplete_details, { reason: 'max_tokens' });
  assert.equal(textOf(message), 'It was the best');
  const [step] = await stepsOf(h, run);
  assert.equal(step!.status, 'completed');
});

test('model errors: retried 5xx recover; persistent 429 and 5xx fail the run; a 400 fails it at once', async () => {
  const { assistant } = await setup(h);
  const runOn = async () => {
    const thread = await h.client.beta.threads.create({ messages: [{ role: 'user', content: 'Hi' }] });
    const before = h.model.requests.length;
    const run = await h.client.beta.threads.runs.createAndPoll(thread.id, { assistant_id: assistant.id }, POLL);
    assertMatchesSpec('RunObject', run);
    return { run, requests: h.model.requests.length - before };
  };

  h.model.script({ status: 500 }, { status: 502 }, { text: 'recovered' });
  let { run, requests } = await runOn();
  assert.equal(run.status, 'completed');
  assert.equal(requests, 3);
  assert.equal(textOf((await runMessages(h, run))[0]), 'recovered');

  h.model.script(...Array.from({ length: 4 }, () => ({ status: 429, message: 'slow down' })));
  ({ run, requests } = await runOn());
  assert.equal(run.status, 'failed');
  assert.equal(requests, 4);
  assert.equal(run.last_error?.code, 'rate_limit_exceeded');
  assert.match(run.last_error?.message ?? '', /429/);
  assert.equal(typeof run.failed_at, 'number');
  assert.equal(run.expires_at, null);

  h.model.script(...Array.from({ length: 4 }, () => ({ status: 500 })));
  ({ run, requests } = await runOn());
  assert.equal(run.status, 'failed');
  assert.equal(requests, 4);
  assert.equal(run.last_error?.code, 'server_error');

  h.model.script({ status: 400, message: 'context too long' });
  ({ run, requests } = await runOn());
  assert.equal(run.status, 'failed');
  assert.equal(requests, 1);
  assert.equal(run.last_error?.code, 'invalid_prompt');
  assert.match(run.last_error?.message ?? '', /context too long/);
  assert.equal(h.model.pending, 0);
});

test('a model connection lost after output began fails the run without a retry, keeping the text', async () => {
  const { assistant, thread } = await setup(h);
  const before = h.model.requests.length;
  h.model.script({ text: ['Half ', 'an ', 'answer'], dropAfterPieces: 2, chunkDelayMs: 50 });
  const run = await h.client.beta.threads.runs.createAndPoll(thread.id, { assistant_id: assistant.id }, POLL);
  assert.equal(run.status, 'failed');
  assert.equal(run.last_error?.code, 'server_error');
  assert.equal(h.model.requests.length - before, 1, 'streamed output is never replayed by a retry');
  const [step] = await stepsOf(h, run);
  assert.equal(step?.status, 'failed');
  assert.equal(step?.last_error?.code, 'server_error');
  const [message] = await runMessages(h, run);
  assert.equal(message?.status, 'incomplete');
  assert.equal(message?.incomplete_details?.reason, 'run_failed');
  assert.equal(textOf(message), 'Half an ');
});

test('a server that reports no usage gets an estimate', async () => {
  const { assistant, thread } = await setup(h);
  h.model.script({ text: 'An answer of a few tokens.', usage: null });
  const run = await h.client.beta.threads.runs.createAndPoll(thread.id, { assistant_id: assistant.id }, POLL);
  assert.equal(run.status, 'completed');
  const usage = run.usage!;
  assert.ok(usage.prompt_tokens > 0, JSON.stringify(usage));
  assert.ok(usage.completion_tokens > 0 && usage.completion_tokens < 20, JSON.stringify(usage));
  assert.equal(usage.total_tokens, usage.prompt_tokens + usage.completion_tokens);
  assert.deepEqual((await stepsOf(h, run))[0]!.usage, usage);
});

test('a restart takes over the run that was executing, calling the model afresh, and keeps a queued run; both complete once', async () => {
  const solo = await startHarness({ env: { STEPWISE_RUN_CONCURRENCY: '1' } });
  try {
    const first = await setup(solo);
    const second = await setup(solo);
    solo.model.script({ text: ['Once ', 'upon'], chunkDelayMs: 60_000 });
    const executing = await solo.client.beta.threads.runs.create(first.thread.id, { assistant_id: first.assistant.id });
    await eventually(async () => ((await stepsOf(solo, executing)).length > 0 ? true : undefined));
    const queued = await solo.client.beta.threads.runs.create(second.thread.id, { assistant_id: second.assistant.id });
    assert.equal(queued.status, 'queued');
    assert.equal(solo.model.requests.length, 1, 'one run at a time: the second waits');
    solo.model.script({ text: 'after the restart' }, { text: 'after the restart' });

    await solo.restart();

    for (const run of [executing, queued]) {
      const done = await solo.client.beta.threads.runs.poll(run.id, { thread_id: run.thread_id }, POLL);
      assertMatchesSpec('RunObject', done);
      assert.equal(done.status, 'completed');
      // The cut-off call's step and message are gone: one of each, from the call after the restart.
      assert.deepEqual((await stepsOf(solo, done)).map((step) => step.status), ['completed']);
      assert.deepEqual((await runMessages(solo, done)).map(textOf), ['after the restart']);
    }
    assert.equal(solo.model.requests.length, 3);
  } finally {
    await solo.close();
  }
});

test('a restart while a run waits on a silent model calls the model again', async () => {
  const solo = await startHarness();
  try {
    const { assistant, thread } = await setup(solo);
    solo.model.script({ hang: true }, { text: 'recovered' });
    const run = await solo.client.beta.threads.runs.create(thread.id, { assistant_id: assistant.id });
    await waitForStatus(solo, run, 'in_progress');
    await solo.restart();
    const done = await solo.client.beta.threads.runs.poll(run.id, { thread_id: thread.id }, POLL);
    assert.equal(done.status, 'completed');
    assert.deepEqual((await runMessages(solo, done)).map(textOf), ['recovered']);
  } finally {
    await solo.close();
  }
});

test('of ten runs created at once on one thread, exactly one is accepted', async () => {
  const { assistant, thread } = await setup(h);
  h.model.script({ hang: true });
  const attempts = await Promise.allSettled(Array.from({ length: 10 }, () => h.client.beta.threads.runs.create(thread.id, { assistant_id: assistant.id })));
  const accepted = attempts.flatMap((attempt) => (attempt.status === 'fulfilled' ? [attempt.value] : []));
  assert.equal(accepted.length, 1);
  for (const attempt of attempts) if (attempt.status === 'rejected') assert.match(String(attempt.reason), /already has an active run/);
  await h.client.beta.threads.runs.cancel(accepted[0]!.id, { thread_id: thread.id });
  await waitForStatus(h, accepted[0]!, 'cancelled');
});
