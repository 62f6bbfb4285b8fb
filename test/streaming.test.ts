import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { AssistantStreamEvent } from 'openai/resources/beta/assistants';
import type { AssistantStream } from 'openai/lib/AssistantStream';
import { assertMatchesSpec, eventually, type Harness, startHarness } from './support/harness.js';

let h: Harness;
before(async () => {
  h = await startHarness();
});
after(() => h.close());

const weather = { type: 'function' as const, function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } };

/** The spec schema of each event's `data`. */
function schemaOf(event: string): string | undefined {
  if (event === 'thread.created') return 'ThreadObject';
  if (event === 'thread.run.step.delta') return 'RunStepDeltaObject';
  if (event === 'thread.message.delta') return 'MessageDeltaObject';
  if (event.startsWith('thread.run.step.')) return 'RunStepObject';
  if (event.startsWith('thread.run.')) return 'RunObject';
  if (event.startsWith('thread.message.')) return 'MessageObject';
  return undefined;
}

function checkPayload(event: string, data: unknown): void {
  const schema = schemaOf(event);
  assert.ok(schema, `unexpected event ${event}`);
  assertMatchesSpec(schema, data);
}

/** Every event the SDK's AssistantStream sees, each checked against the spec as it arrives. */
function record(stream: AssistantStream): AssistantStreamEvent[] {
  const events: AssistantStreamEvent[] = [];
  stream.on('event', (event) => {
    checkPayload(event.event, event.data);
    // The SDK accumulates later deltas into the objects it received, so keep them as they arrived.
    events.push(structuredClone(event));
  });
  return events;
}

const names = (events: { event: string }[]) => events.map((event) => event.event);

const TEXT_TURN = (deltas: number) => [
  'thread.run.step.created',
  'thread.run.step.in_progress',
  'thread.message.created',
  'thread.message.in_progress',
  ...Array<string>(deltas).fill('thread.message.delta'),
  'thread.message.completed',
  'thread.run.step.completed',
];

async function setup(tools: (typeof weather)[] = []) {
  const assistant = await h.client.beta.assistants.create({ model: 'gpt-4o', instructions: 'Be brief.', tools });
  const thread = await h.client.beta.threads.create({ messages: [{ role: 'user', content: 'Hello' }] });
  return { assistant, thread };
}

test('a streamed text answer follows the canonical event order', async () => {
  const { assistant, thread } = await setup();
  h.model.script({ text: ['The ', 'answer ', 'is 42.'], usage: { prompt_tokens: 9, completion_tokens: 4 } });
  const stream = h.client.beta.threads.runs.stream(thread.id, { assistant_id: assistant.id });
  const events = record(stream);
  let text = '';
  stream.on('textDelta', (delta) => (text += delta.value ?? ''));
  const run = await stream.finalRun();
  const [message] = await stream.finalMessages();

  assert.deepEqual(names(events), ['thread.run.created', 'thread.run.queued', 'thread.run.in_progress', ...TEXT_TURN(3), 'thread.run.completed']);
  assert.equal(text, 'The answer is 42.');
  assert.equal(run.status, 'completed');
  assert.deepEqual(run.usage, { prompt_tokens: 9, completion_tokens: 4, total_tokens: 13 });
  assert.equal(message?.content[0]?.type === 'text' && message.content[0].text.value, 'The answer is 42.');

  const byName = (name: string) => events.filter((event) => event.event === name).map((event) => event.data as unknown as Record<string, unknown>);
  const [created] = byName('thread.run.created');
  assert.equal(created!.status, 'queued');
  assert.equal(byName('thread.run.in_progress')[0]!.status, 'in_progress');
  const [stepCreated] = byName('thread.run.step.created');
  assert.deepEqual(stepCreated!.step_details, { type: 'message_creation', message_creation: { message_id: message!.id } });
  assert.equal(stepCreated!.usage, null);
  const [messageCreated] = byName('thread.message.created');
  assert.equal(messageCreated!.id, message!.id);
  assert.equal(messageCreated!.role, 'assistant');
  assert.deepEqual(messageCreated!.content, []);
  assert.equal(messageCreated!.status, 'in_progress');
  assert.deepEqual(byName('thread.message.delta').map((delta) => delta.delta), ['The ', 'answer ', 'is 42.'].map((value) => ({ content: [{ index: 0, type: 'text', text: { value, annotations: [] } }] })));
  for (const delta of byName('thread.message.delta')) assert.equal(delta.id, message!.id);
  assert.equal(byName('thread.message.completed')[0]!.status, 'completed');
  assert.deepEqual(byName('thread.run.step.completed')[0]!.usage, { prompt_tokens: 9, completion_tokens: 4, total_tokens: 13 });
  const stored = await h.client.beta.threads.runs.retrieve(run.id, { thread_id: thread.id });
  assert.deepEqual(stored, run);
});

test('a streamed function call ends at requires_action, and submitToolOutputsStream resumes it', async () => {
  const { assistant, thread } = await setup([weather]);
  h.model.script({ toolCalls: [{ name: 'get_weather', arguments: '{"city":"Paris"}' }] });
  const stream = h.client.beta.threads.runs.stream(thread.id, { assistant_id: assistant.id });
  const events = record(stream);
  const paused = await stream.finalRun();
  assert.deepEqual(names(events), [
    'thread.run.created', 'thread.run.queued', 'thread.run.in_progress',
    'thread.run.step.created', 'thread.run.step.in_progress',
    'thread.run.step.delta', 'thread.run.step.delta', 'thread.run.step.delta',
    'thread.run.requires_action',
  ]);
  assert.equal(paused.status, 'requires_action');
  const call = paused.required_action!.submit_tool_outputs.tool_calls[0]!;
  const step = events[3]!.data as { id: string; type: string; step_details: unknown };
  assert.equal(step.type, 'tool_calls');
  assert.deepEqual(step.step_details, { type: 'tool_calls', tool_calls: [] });
  const deltas = events.filter((event) => event.event === 'thread.run.step.delta').map((event) => event.data as { id: string; object: string; delta: Record<string, unknown> });
  for (const delta of deltas) {
    assert.equal(delta.id, step.id);
    assert.equal(delta.object, 'thread.run.step.delta');
    assert.equal('id' in delta.delta, false, 'a step delta carries no id inside `delta`');
  }
  assert.deepEqual(deltas.map((delta) => delta.delta), [
    { step_details: { type: 'tool_calls', tool_calls: [{ index: 0, id: call.id, type: 'function', function: { name: 'get_weather', arguments: '', output: null } }] } },
    { step_details: { type: 'tool_calls', tool_calls: [{ index: 0, type: 'function', function: { arguments: '{"city":' } }] } },
    { step_details: { type: 'tool_calls', tool_calls: [{ index: 0, type: 'function', function: { arguments: '"Paris"}' } }] } },
  ]);
  assert.deepEqual(call.function, { name: 'get_weather', arguments: '{"city":"Paris"}' });

  h.model.script({ text: ['Sunny ', 'in Paris.'] });
  const resumed = h.client.beta.threads.runs.submitToolOutputsStream(paused.id, { thread_id: thread.id, tool_outputs: [{ tool_call_id: call.id, output: 'sunny' }] });
  const more = record(resumed);
  let text = '';
  resumed.on('textDelta', (delta) => (text += delta.value ?? ''));
  const done = await resumed.finalRun();
  assert.deepEqual(names(more), ['thread.run.step.completed', 'thread.run.queued', 'thread.run.in_progress', ...TEXT_TURN(2), 'thread.run.completed']);
  const completedStep = more[0]!.data as { id: string; status: string; step_details: unknown };
  assert.equal(completedStep.id, step.id);
  assert.equal(completedStep.status, 'completed');
  assert.deepEqual(completedStep.step_details, { type: 'tool_calls', tool_calls: [{ id: call.id, type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}', output: 'sunny' } }] });
  assert.equal(done.status, 'completed');
  assert.equal(text, 'Sunny in Paris.');
});

test('text before a tool call closes its message before the tool step opens', async () => {
  const { assistant, thread } = await setup([weather]);
  h.model.script({ text: 'Checking. ', toolCalls: [{ name: 'get_weather', arguments: '{}' }] });
  const stream = h.client.beta.threads.runs.stream(thread.id, { assistant_id: assistant.id });
  const events = record(stream);
  const paused = await stream.finalRun();
  assert.equal(paused.status, 'requires_action');
  assert.deepEqual(names(events), [
    'thread.run.created', 'thread.run.queued', 'thread.run.in_progress',
    ...TEXT_TURN(1),
    // The call's opening delta, then its arguments in the model's two fragments.
    'thread.run.step.created', 'thread.run.step.in_progress', 'thread.run.step.delta', 'thread.run.step.delta', 'thread.run.step.delta',
    'thread.run.requires_action',
  ]);
  await h.client.beta.threads.runs.cancel(paused.id, { thread_id: thread.id });
});

test('createAndRunStream announces the new thread first', async () => {
  const assistant = await h.client.beta.assistants.create({ model: 'gpt-4o' });
  h.model.script({ text: 'Hi!' });
  const stream = h.client.beta.threads.createAndRunStream({ assistant_id: assistant.id, thread: { messages: [{ role: 'user', content: 'Hey' }] } });
  const events = record(stream);
  const run = await stream.finalRun();
  assert.deepEqual(names(events), ['thread.created', 'thread.run.created', 'thread.run.queued', 'thread.run.in_progress', ...TEXT_TURN(1), 'thread.run.completed']);
  const thread = events[0]!.data as { id: string; object: string };
  assert.equal(thread.object, 'thread');
  assert.equal(run.thread_id, thread.id);
  assert.equal(run.status, 'completed');
});

interface WireEvent {
  event: string;
  data: string;
}

function parseFrames(body: string): WireEvent[] {
  assert.ok(body.endsWith('\n\n'), 'every frame ends with a blank line');
  return body.slice(0, -2).split('\n\n').map((frame) => {
    const lines = frame.split('\n');
    assert.equal(lines.length, 2, `one data line per event: ${frame}`);
    assert.match(lines[0]!, /^event: /);
    assert.match(lines[1]!, /^data: /);
    return { event: lines[0]!.slice('event: '.length), data: lines[1]!.slice('data: '.length) };
  });
}

async function postStream(path: string, body: object, signal?: AbortSignal): Promise<Response> {
  return fetch(`${h.stepwise.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ...body, stream: true }), ...(signal && { signal }) });
}

test('on the wire: text/event-stream, bare JSON objects, and a final done event', async () => {
  const { assistant, thread } = await setup();
  h.model.script({ text: ['a', 'b'] });
  const response = await postStream(`/threads/${thread.id}/runs`, { assistant_id: assistant.id });
  assert.equal(response.status, 200);
  assert.match(response.headers.get('content-type') ?? '', /^text\/event-stream/);
  const body = await response.text();
  assert.ok(body.endsWith('event: done\ndata: [DONE]\n\n'), body.slice(-200));
  const frames = parseFrames(body);
  assert.deepEqual(names(frames), ['thread.run.created', 'thread.run.queued', 'thread.run.in_progress', ...TEXT_TURN(2), 'thread.run.completed', 'done']);
  for (const frame of frames.slice(0, -1)) checkPayload(frame.event, JSON.parse(frame.data));
  assert.equal((JSON.parse(frames[0]!.data) as { object: string }).object, 'thread.run');

  // A refused stream request is a plain JSON error, not a stream.
  const refused = await postStream(`/threads/${thread.id}/runs`, { assistant_id: 'asst_missing' });
  assert.equal(refused.status, 404);
  assert.match(refused.headers.get('content-type') ?? '', /application\/json/);
});

test('a stream ends with the failed run and done when the model refuses the prompt', async () => {
  const { assistant, thread } = await setup();
  h.model.script({ status: 400, message: 'bad prompt' });
  const response = await postStream(`/threads/${thread.id}/runs`, { assistant_id: assistant.id });
  const frames = parseFrames(await response.text());
  assert.deepEqual(names(frames), ['thread.run.created', 'thread.run.queued', 'thread.run.in_progress', 'thread.run.failed', 'done']);
  const failed = JSON.parse(frames[3]!.data) as { status: string; last_error: { code: string } };
  assertMatchesSpec('RunObject', failed);
  assert.equal(failed.last_error.code, 'invalid_prompt');
});

test('a client that disconnects mid-stream does not stop the run', async () => {
  const { assistant, thread } = await setup();
  h.model.script({ text: ['one ', 'two ', 'three ', 'four'], chunkDelayMs: 80 });
  const abort = new AbortController();
  const response = await postStream(`/threads/${thread.id}/runs`, { assistant_id: assistant.id }, abort.signal);
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let seen = '';
  while (!seen.includes('event: thread.message.delta')) {
    const { value, done } = await reader.read();
    assert.equal(done, false, 'the stream ended before the first delta');
    seen += decoder.decode(value, { stream: true });
  }
  abort.abort();
  const runId = (JSON.parse(/data: (.*)\n/.exec(seen)![1]!) as { id: string }).id;
  assert.equal((await h.client.beta.threads.runs.retrieve(runId, { thread_id: thread.id })).status, 'in_progress');

  const run = await eventually(async () => {
    const current = await h.client.beta.threads.runs.retrieve(runId, { thread_id: thread.id });
    return current.status === 'in_progress' ? undefined : current;
  });
  assert.equal(run.status, 'completed');
  const messages = await h.client.beta.threads.messages.list(thread.id, { run_id: runId });
  assert.equal(messages.data[0]?.content[0]?.type === 'text' && messages.data[0].content[0].text.value, 'one two three four');
});

test('a stream sees a cancel through to the cancelled run, the open message closed before its step', async () => {
  const { assistant, thread } = await setup();
  h.model.script({ text: ['first ', 'second'], chunkDelayMs: 60_000 });
  const stream = h.client.beta.threads.runs.stream(thread.id, { assistant_id: assistant.id });
  const events = record(stream);
  stream.once('textDelta', () => {
    const run = events[0]!.data as { id: string };
    void h.client.beta.threads.runs.cancel(run.id, { thread_id: thread.id });
  });
  const run = await stream.finalRun();
  assert.equal(run.status, 'cancelled');
  assert.deepEqual(names(events), [
    'thread.run.created', 'thread.run.queued', 'thread.run.in_progress',
    'thread.run.step.created', 'thread.run.step.in_progress', 'thread.message.created', 'thread.message.in_progress', 'thread.message.delta',
    'thread.run.cancelling', 'thread.message.incomplete', 'thread.run.step.cancelled', 'thread.run.cancelled',
  ]);
  const incomplete = events[9]!.data as { status: string; content: unknown };
  assert.deepEqual(incomplete.content, [{ type: 'text', text: { value: 'first ', annotations: [] } }]);
});

test('a refused streamed submit answers with a JSON error; an accepted one streams to done', async () => {
  const { assistant, thread } = await setup([weather]);
  h.model.script({ toolCalls: [{ name: 'get_weather', arguments: '{}' }] });
  const paused = await h.client.beta.threads.runs.createAndPoll(thread.id, { assistant_id: assistant.id }, { pollIntervalMs: 20 });
  const callId = paused.required_action!.submit_tool_outputs.tool_calls[0]!.id;
  const path = `/threads/${thread.id}/runs/${paused.id}/submit_tool_outputs`;
  const refused = await postStream(path, { tool_outputs: [{ tool_call_id: 'call_nope', output: 'x' }] });
  assert.equal(refused.status, 400);
  assert.match(refused.headers.get('content-type') ?? '', /application\/json/);
  assert.equal(((await refused.json()) as { error: { param: string } }).error.param, 'tool_outputs[0].tool_call_id');

  h.model.script({ text: 'Done.', finishReason: 'length' });
  const accepted = await postStream(path, { tool_outputs: [{ tool_call_id: callId, output: 'ok' }] });
  assert.match(accepted.headers.get('content-type') ?? '', /^text\/event-stream/);
  const frames = parseFrames(await accepted.text());
  // Cut off by the model's own limit (no max_completion_tokens): the message is incomplete, the run completes.
  const textTurn = TEXT_TURN(1).map((name) => (name === 'thread.message.completed' ? 'thread.message.incomplete' : name));
  assert.deepEqual(names(frames), ['thread.run.step.completed', 'thread.run.queued', 'thread.run.in_progress', ...textTurn, 'thread.run.completed', 'done']);
  for (const frame of frames.slice(0, -1)) checkPayload(frame.event, JSON.parse(frame.data));
});

test('a run that ends incomplete ends its stream with thread.run.incomplete', async () => {
  const { assistant, thread } = await setup();
  h.model.script({ text: 'Cut', finishReason: 'length' });
  const stream = h.client.beta.threads.runs.stream(thread.id, { assistant_id: assistant.id, max_completion_tokens: 256 });
  const events = record(stream);
  const run = await stream.finalRun();
  assert.equal(run.status, 'incomplete');
  assert.deepEqual(names(events).slice(-4), ['thread.message.delta', 'thread.message.incomplete', 'thread.run.step.completed', 'thread.run.incomplete']);
});

test('a slow model gets keepalive comments on the stream, which the SDK ignores', async () => {
  const slow = await startHarness({ env: { STEPWISE_SSE_KEEPALIVE_MS: '30' } });
  try {
    const assistant = await slow.client.beta.assistants.create({ model: 'gpt-4o' });
    const thread = await slow.client.beta.threads.create({ messages: [{ role: 'user', content: 'Hi' }] });
    slow.model.script({ text: 'Finally.', delayMs: 300 });
    const response = await fetch(`${slow.stepwise.url}/threads/${thread.id}/runs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ assistant_id: assistant.id, stream: true }),
    });
    const body = await response.text();
    const waiting = body.slice(body.indexOf('event: thread.run.in_progress'), body.indexOf('event: thread.run.step.created'));
    assert.match(waiting, /\n: keepalive\n\n/);
    assert.ok(body.endsWith('event: done\ndata: [DONE]\n\n'));

    slow.model.script({ text: 'Again.', delayMs: 300 });
    const stream = slow.client.beta.threads.runs.stream(thread.id, { assistant_id: assistant.id });
    assert.equal((await stream.finalRun()).status, 'completed');
    const [message] = await stream.finalMessages();
    assert.deepEqual(message?.content, [{ type: 'text', text: { value: 'Again.', annotations: [] } }]);
  } finally {
    await slow.close();
  }
});
