import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import OpenAI from 'openai';
import type { Message } from 'openai/resources/beta/threads/messages';
import type { Run } from 'openai/resources/beta/threads/runs/runs';
import { assertMatchesSpec, type Harness, startHarness } from './support/harness.js';

let h: Harness;
before(async () => {
  h = await startHarness();
});
after(() => h.close());

const POLL = { pollIntervalMs: 20 };
const weather = { type: 'function' as const, function: { name: 'get_weather', description: 'Weather of a city', parameters: { type: 'object', properties: { city: { type: 'string' } } } } };
const lookup = { type: 'function' as const, function: { name: 'lookup', parameters: { type: 'object', properties: { q: { type: 'string' } } } } };

function textOf(message: Message | undefined): string {
  const part = message?.content[0];
  return part?.type === 'text' ? part.text.value : '';
}

async function newAssistant(params: Partial<OpenAI.Beta.AssistantCreateParams> = {}) {
  return h.client.beta.assistants.create({ model: 'gpt-4o', instructions: 'Be brief.', ...params });
}

async function newThread(...texts: string[]) {
  return h.client.beta.threads.create({ messages: texts.map((content) => ({ role: 'user' as const, content })) });
}

/** The next model request a test causes, by its position. */
function nextRequestIndex(): number {
  return h.model.requests.length;
}

async function expectStatus(promise: Promise<unknown>, status: number, message?: RegExp): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof OpenAI.APIError, `expected an APIError, got ${String(error)}`);
    assert.equal(error.status, status);
    if (message) assert.match(error.message, message);
    return true;
  });
}

async function rawSteps(threadId: string, runId: string): Promise<{ data: unknown[] }> {
  const response = await fetch(`${h.stepwise.url}/threads/${threadId}/runs/${runId}/steps?order=asc`);
  assert.equal(response.status, 200);
  return (await response.json()) as { data: unknown[] };
}

test('createAndPoll completes with the assistant message, its step and the summed usage', async () => {
  const assistant = await newAssistant();
  const thread = await newThread('Hi there');
  h.model.script({ text: ['Hello', ', ', 'world.'], usage: { prompt_tokens: 20, completion_tokens: 5 } });
  const run = await h.client.beta.threads.runs.createAndPoll(thread.id, { assistant_id: assistant.id }, POLL);
  assertMatchesSpec('RunObject', run);
  assert.equal(run.status, 'completed');
  assert.equal(run.thread_id, thread.id);
  assert.equal(run.assistant_id, assistant.id);
  assert.deepEqual(run.usage, { prompt_tokens: 20, completion_tokens: 5, total_tokens: 25 });
  assert.equal(typeof run.started_at, 'number');
  assert.equal(typeof run.completed_at, 'number');
  assert.equal(run.expires_at, null);
  assert.equal(run.failed_at, null);
  assert.equal(run.cancelled_at, null);
  assert.equal(run.last_error, null);
  assert.equal(run.required_action, null);
  assert.equal(run.incomplete_details, null);

  const messages = await h.client.beta.threads.messages.list(thread.id, { order: 'asc' });
  assert.equal(messages.data.length, 2);
  const answer = messages.data[1]!;
  assertMatchesSpec('MessageObject', answer);
  assert.equal(textOf(answer), 'Hello, world.');
  assert.equal(answer.role, 'assistant');
  assert.equal(answer.status, 'completed');
  assert.equal(answer.run_id, run.id);
  assert.equal(answer.assistant_id, assistant.id);
  assert.equal(typeof answer.completed_at, 'number');

  const steps = await h.client.beta.threads.runs.steps.list(run.id, { thread_id: thread.id });
  assertMatchesSpec('ListRunStepsResponse', await rawSteps(thread.id, run.id));
  assert.equal(steps.data.length, 1);
  const step = steps.data[0]!;
  assertMatchesSpec('RunStepObject', step);
  assert.deepEqual(
    { ...step, id: undefined, created_at: undefined, completed_at: undefined },
    {
      id: undefined,
      object: 'thread.run.step',
      created_at: undefined,
      assistant_id: assistant.id,
      thread_id: thread.id,
      run_id: run.id,
      type: 'message_creation',
      status: 'completed',
      step_details: { type: 'message_creation', message_creation: { message_id: answer.id } },
      last_error: null,
      expired_at: null,
      cancelled_at: null,
      failed_at: null,
      completed_at: undefined,
      metadata: {},
      usage: { prompt_tokens: 20, completion_tokens: 5, total_tokens: 25 },
    },
  );
  assert.equal(typeof step.completed_at, 'number');
  assert.match(step.id, /^step_/);
  const retrieved = await h.client.beta.threads.runs.steps.retrieve(step.id, { thread_id: thread.id, run_id: run.id });
  assertMatchesSpec('RunStepObject', retrieved);
  assert.deepEqual(retrieved, step);
});

test('the model receives the run settings: instructions, model, sampling, response format, tools and tool choice', async () => {
  const assistant = await newAssistant({ instructions: 'Base rules.', tools: [weather], temperature: 0.5 });
  const thread = await newThread('Question');
  const format = { type: 'json_schema' as const, json_schema: { name: 'answer', schema: { type: 'object', properties: { a: { type: 'string' } } }, strict: true } };

  h.model.script({ text: '{"a":"x"}' });
  let index = nextRequestIndex();
  const first = await h.client.beta.threads.runs.createAndPoll(thread.id, {
    assistant_id: assistant.id,
    additional_instructions: 'Extra rules.',
    model: 'gpt-4o-mini',
    temperature: 0.2,
    top_p: 0.9,
    response_format: format,
    tools: [lookup],
    tool_choice: { type: 'function', function: { name: 'lookup' } },
  }, POLL);
  assertMatchesSpec('RunObject', first);
  assert.equal(first.status, 'completed');
  assert.equal(first.model, 'gpt-4o-mini');
  assert.equal(first.instructions, 'Base rules.\n\nExtra rules.');
  assert.equal(first.temperature, 0.2);
  assert.equal(first.top_p, 0.9);
  assert.deepEqual(first.response_format, format);
  assert.deepEqual(first.tool_choice, { type: 'function', function: { name: 'lookup' } });
  assert.deepEqual(first.tools.map((tool) => tool.type === 'function' && tool.function.name), ['lookup']);
  let body = h.model.requests[index]!.body;
  assert.equal(body.model, 'gpt-4o-mini');
  assert.equal(body.stream, true);
  assert.deepEqual(body.messages, [{ role: 'system', content: 'Base rules.\n\nExtra rules.' }, { role: 'user', content: 'Question' }]);
  assert.equal(body.temperature, 0.2);
  assert.equal(body.top_p, 0.9);
  assert.deepEqual(body.response_format, format);
  assert.deepEqual(body.tool_choice, { type: 'function', function: { name: 'lookup' } });
  assert.deepEqual((body.tools as { function: { name: string } }[]).map((tool) => tool.function.name), ['lookup']);
  assert.deepEqual(body.tools, [{ type: 'function', function: lookup.function }]);

  // An instructions override replaces the assistant's; the defaults come from the assistant.
  h.model.script({ text: 'ok' });
  index = nextRequestIndex();
  const second = await h.client.beta.threads.runs.createAndPoll(thread.id, { assistant_id: assistant.id, instructions: 'Override.', tool_choice: 'required' }, POLL);
  assert.equal(second.status, 'completed');
  assert.equal(second.model, 'gpt-4o');
  assert.equal(second.temperature, 0.5);
  body = h.model.requests[index]!.body;
  assert.equal(body.model, 'gpt-4o');
  assert.deepEqual(body.messages[0], { role: 'system', content: 'Override.' });
  assert.equal(body.temperature, 0.5);
  assert.equal(body.tool_choice, 'required');
  assert.deepEqual((body.tools as { function: { name: string } }[]).map((tool) => tool.function.name), ['get_weather']);
  assert.equal(body.response_format, undefined);
  // The thread's history, the earlier answer included, goes to the model.
  assert.deepEqual(body.messages.slice(1), [{ role: 'user', content: 'Question' }, { role: 'assistant', content: '{"a":"x"}' }]);
});

test('additional_messages are added to the thread before the run and reach the model', async () => {
  const assistant = await newAssistant();
  const thread = await newThread('First');
  h.model.script({ text: 'Answer' });
  const index = nextRequestIndex();
  const run = await h.client.beta.threads.runs.createAndPoll(thread.id, {
    assistant_id: assistant.id,
    additional_messages: [{ role: 'user', content: 'Second', metadata: { k: 'v' } }],
  }, POLL);
  assert.equal(run.status, 'completed');
  const messages = await h.client.beta.threads.messages.list(thread.id, { order: 'asc' });
  for (const message of messages.data) assertMatchesSpec('MessageObject', message);
  assert.deepEqual(messages.data.map((message) => [message.role, textOf(message)]), [['user', 'First'], ['user', 'Second'], ['assistant', 'Answer']]);
  assert.deepEqual(messages.data[1]!.metadata, { k: 'v' });
  assert.deepEqual(h.model.requests[index]!.body.messages.slice(1), [{ role: 'user', content: 'First' }, { role: 'user', content: 'Second' }]);
});

test('createThreadAndRun creates the thread with its messages and runs on it', async () => {
  const assistant = await newAssistant();
  h.model.script({ text: 'From a new thread' });
  const index = nextRequestIndex();
  const run = await h.client.beta.threads.createAndRunPoll({
    assistant_id: assistant.id,
    thread: { messages: [{ role: 'user', content: 'Start' }], metadata: { origin: 'test' } },
    metadata: { run: '1' },
  }, POLL);
  assertMatchesSpec('RunObject', run);
  assert.equal(run.status, 'completed');
  assert.deepEqual(run.metadata, { run: '1' });
  const thread = await h.client.beta.threads.retrieve(run.thread_id);
  assert.deepEqual(thread.metadata, { origin: 'test' });
  const messages = await h.client.beta.threads.messages.list(run.thread_id, { order: 'asc' });
  assert.deepEqual(messages.data.map((message) => [message.role, textOf(message)]), [['user', 'Start'], ['assistant', 'From a new thread']]);
  assert.deepEqual(h.model.requests[index]!.body.messages, [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Start' }]);

  h.model.script({ text: 'again' });
  const queued = await h.client.beta.threads.createAndRun({ assistant_id: assistant.id });
  assertMatchesSpec('RunObject', queued);
  assert.equal(queued.status, 'queued');
  assert.equal(queued.expires_at, queued.created_at + 600);
  const done = await h.client.beta.threads.runs.poll(queued.id, { thread_id: queued.thread_id }, POLL);
  assert.equal(done.status, 'completed');
});

/**
 * Streams a story as a run on a new thread and, once its first text arrives, makes `change` to the
 * run, its message or the thread; resolves to the thread and the finished run, the change made.
 */
async function streamWhileChanging(change: (threadId: string, run: Run, message: Message) => Promise<unknown>) {
  const assistant = await newAssistant();
  const thread = await newThread('Tell me a story');
  h.model.script({ text: ['Once', ' upon', ' a', ' time.'], chunkDelayMs: 100 });
  const stream = h.client.beta.threads.runs.stream(thread.id, { assistant_id: assistant.id });
  const changed = new Promise<void>((resolve, reject) => {
    stream.once('textDelta', () => change(thread.id, stream.currentRun()!, stream.currentMessageSnapshot()!).then(() => resolve(), reject));
  });
  const run = await stream.finalRun();
  await changed;
  return { thread, run };
}

/** The answer of a story run is completed, whole, with this metadata. */
async function assertStoryAnswer(threadId: string, runId: string, metadata: Record<string, string>): Promise<void> {
  const [answer] = (await h.client.beta.threads.messages.list(threadId, { run_id: runId })).data;
  assert.equal(answer?.status, 'completed');
  assert.equal(textOf(answer), 'Once upon a time.');
  assert.deepEqual(answer?.metadata, metadata);
}

test('metadata set on a run, its message and its thread while the run streams is kept, and the run still completes', async () => {
  const { thread, run } = await streamWhileChanging((threadId, streaming, message) =>
    Promise.all([
      h.client.beta.threads.runs.update(streaming.id, { thread_id: threadId, metadata: { run: 'tagged' } }),
      h.client.beta.threads.messages.update(message.id, { thread_id: threadId, metadata: { message: 'tagged' } }),
      h.client.beta.threads.update(threadId, { metadata: { thread: 'tagged' } }),
    ]),
  );
  assert.equal(run.status, 'completed');
  const stored = await h.client.beta.threads.runs.retrieve(run.id, { thread_id: thread.id });
  assert.equal(stored.status, 'completed');
  assert.deepEqual(stored.metadata, { run: 'tagged' });
  await assertStoryAnswer(thread.id, run.id, { message: 'tagged' });
  assert.deepEqual((await h.client.beta.threads.retrieve(thread.id)).metadata, { thread: 'tagged' });
});

test('metadata set on the answer alone while the run streams is kept as the run ends', async () => {
  const { thread, run } = await streamWhileChanging((threadId, _run, message) =>
    h.client.beta.threads.messages.update(message.id, { thread_id: threadId, metadata: { message: 'tagged' } }),
  );
  assert.equal(run.status, 'completed');
  await assertStoryAnswer(thread.id, run.id, { message: 'tagged' });
});

test('runs list, retrieve and modify metadata', async () => {
  const assistant = await newAssistant();
  const thread = await newThread('Hi');
  h.model.script({ text: 'one' }, { text: 'two' });
  const first = await h.client.beta.threads.runs.createAndPoll(thread.id, { assistant_id: assistant.id, metadata: { n: '1' } }, POLL);
  const second = await h.client.beta.threads.runs.createAndPoll(thread.id, { assistant_id: assistant.id }, POLL);

  const listed = await h.client.beta.threads.runs.list(thread.id);
  assert.deepEqual(listed.data.map((run) => run.id), [second.id, first.id]);
  for (const run of listed.data) assertMatchesSpec('RunObject', run);
  const asc = await h.client.beta.threads.runs.list(thread.id, { order: 'asc', limit: 1 });
  assert.deepEqual(asc.data.map((run) => run.id), [first.id]);
  assert.equal(asc.has_more, true);
  const raw = (await (await fetch(`${h.stepwise.url}/threads/${thread.id}/runs`)).json()) as object;
  assertMatchesSpec('ListRunsResponse', raw);

  const retrieved = await h.client.beta.threads.runs.retrieve(first.id, { thread_id: thread.id });
  assert.deepEqual(retrieved, first);
  assert.deepEqual(retrieved.metadata, { n: '1' });

  const updated = await h.client.beta.threads.runs.update(first.id, { thread_id: thread.id, metadata: { n: '2', extra: 'yes' } });
  assertMatchesSpec('RunObject', updated);
  assert.deepEqual(updated.metadata, { n: '2', extra: 'yes' });
  assert.equal(updated.status, 'completed');
  assert.deepEqual((await h.client.beta.threads.runs.retrieve(first.id, { thread_id: thread.id })).metadata, { n: '2', extra: 'yes' });

  await expectStatus(h.client.beta.threads.runs.retrieve('run_missing', { thread_id: thread.id }), 404);
  const other = await newThread('x');
  await expectStatus(h.client.beta.threads.runs.retrieve(first.id, { thread_id: other.id }), 404);
});

test('a second run on a thread with an active run is refused with 400', async () => {
  const assistant = await newAssistant({ tools: [weather] });
  const thread = await newThread('Weather?');
  h.model.script({ toolCalls: [{ name: 'get_weather', arguments: '{"city":"Oslo"}' }] });
  const paused = await h.client.beta.threads.runs.createAndPoll(thread.id, { assistant_id: assistant.id }, POLL);
  assert.equal(paused.status, 'requires_action');
  const before = nextRequestIndex();
  await expectStatus(h.client.beta.threads.runs.create(thread.id, { assistant_id: assistant.id }), 400, new RegExp(`already has an active run ${paused.id}`));
  await expectStatus(h.client.beta.threads.messages.create(thread.id, { role: 'user', content: 'more' }), 400);
  assert.equal(h.model.requests.length, before);
  assert.equal((await h.client.beta.threads.runs.list(thread.id)).data.length, 1);
  await h.client.beta.threads.runs.cancel(paused.id, { thread_id: thread.id });
});

test('tool outputs are refused unless the run awaits exactly those tool calls', async () => {
  const assistant = await newAssistant({ tools: [weather] });
  const thread = await newThread('Weather?');
  h.model.script({ text: 'no tools needed' });
  const completed = await h.client.beta.threads.runs.createAndPoll(thread.id, { assistant_id: assistant.id }, POLL);
  await expectStatus(h.client.beta.threads.runs.submitToolOutputs(completed.id, { thread_id: thread.id, tool_outputs: [{ tool_call_id: 'call_x', output: '1' }] }), 400, /do not accept tool outputs/);

  h.model.script({ toolCalls: [{ name: 'get_weather', arguments: '{"city":"Rome"}' }] });
  const paused = await h.client.beta.threads.runs.createAndPoll(thread.id, { assistant_id: assistant.id }, POLL);
  assertMatchesSpec('RunObject', paused);
  assert.equal(paused.status, 'requires_action');
  const callId = paused.required_action!.submit_tool_outputs.tool_calls[0]!.id;
  const submit = (tool_outputs: OpenAI.Beta.Threads.RunSubmitToolOutputsParams.ToolOutput[]) =>
    h.client.beta.threads.runs.submitToolOutputs(paused.id, { thread_id: thread.id, tool_outputs });
  await expectStatus(submit([{ tool_call_id: 'call_wrong', output: 'x' }]), 400, /call_wrong/);
  await expectStatus(submit([{ output: 'x' }]), 400);
  await expectStatus(submit([]), 400, /Missing/);
  await expectStatus(submit([{ tool_call_id: callId, output: 'a' }, { tool_call_id: callId, output: 'b' }]), 400, /Duplicate/);
  // None of the refusals changed the run.
  const still = await h.client.beta.threads.runs.retrieve(paused.id, { thread_id: thread.id });
  assert.equal(still.status, 'requires_action');
  assert.deepEqual(still.required_action, paused.required_action);

  h.model.script({ text: 'Warm.' });
  const done = await h.client.beta.threads.runs.submitToolOutputsAndPoll(paused.id, { thread_id: thread.id, tool_outputs: [{ tool_call_id: callId, output: '25C' }] }, POLL);
  assert.equal(done.status, 'completed');
  await expectStatus(submit([{ tool_call_id: callId, output: 'again' }]), 400, /do not accept tool outputs/);
});

test('parallel tool calls: both outputs go back to the model, and the steps record them', async () => {
  const assistant = await newAssistant({ tools: [weather, lookup] });
  const thread = await newThread('Weather in Paris and look up Lyon');
  h.model.script({
    toolCalls: [{ name: 'get_weather', arguments: '{"city":"Paris"}' }, { name: 'lookup', arguments: '{"q":"Lyon"}' }],
    usage: { prompt_tokens: 30, completion_tokens: 10 },
  });
  const firstIndex = nextRequestIndex();
  const paused = await h.client.beta.threads.runs.createAndPoll(thread.id, { assistant_id: assistant.id }, POLL);
  assertMatchesSpec('RunObject', paused);
  assert.equal(paused.status, 'requires_action');
  assert.equal(h.model.requests[firstIndex]!.body.parallel_tool_calls, true);
  const calls = paused.required_action!.submit_tool_outputs.tool_calls;
  assert.deepEqual(calls.map((call) => [call.type, call.function.name, call.function.arguments]), [
    ['function', 'get_weather', '{"city":"Paris"}'],
    ['function', 'lookup', '{"q":"Lyon"}'],
  ]);
  assert.notEqual(calls[0]!.id, calls[1]!.id);
  assert.equal(paused.required_action!.type, 'submit_tool_outputs');
  assert.equal(typeof paused.expires_at, 'number');

  let steps = await h.client.beta.threads.runs.steps.list(paused.id, { thread_id: thread.id });
  assert.equal(steps.data.length, 1);
  const waiting = steps.data[0]!;
  assertMatchesSpec('RunStepObject', waiting);
  assert.equal(waiting.type, 'tool_calls');
  assert.equal(waiting.status, 'in_progress');
  assert.equal(waiting.usage, null);
  assert.equal(waiting.completed_at, null);
  assert.deepEqual(waiting.step_details, {
    type: 'tool_calls',
    tool_calls: calls.map((call) => ({ id: call.id, type: 'function', function: { ...call.function, output: null } })),
  });

  h.model.script({ text: 'Paris is sunny; Lyon is a city.', usage: { prompt_tokens: 50, completion_tokens: 8 } });
  const secondIndex = nextRequestIndex();
  const done = await h.client.beta.threads.runs.submitToolOutputsAndPoll(paused.id, {
    thread_id: thread.id,
    tool_outputs: [{ tool_call_id: calls[1]!.id, output: 'Lyon: a city' }, { tool_call_id: calls[0]!.id, output: 'sunny' }],
  }, POLL);
  assertMatchesSpec('RunObject', done);
  assert.equal(done.status, 'completed');
  assert.equal(done.required_action, null);
  assert.deepEqual(done.usage, { prompt_tokens: 80, completion_tokens: 18, total_tokens: 98 });

  const prompt = h.model.requests[secondIndex]!.body.messages;
  assert.deepEqual(prompt.slice(1), [
    { role: 'user', content: 'Weather in Paris and look up Lyon' },
    { role: 'assistant', content: null, tool_calls: calls.map((call) => ({ id: call.id, type: 'function', function: { name: call.function.name, arguments: call.function.arguments } })) },
    { role: 'tool', tool_call_id: calls[0]!.id, content: 'sunny' },
    { role: 'tool', tool_call_id: calls[1]!.id, content: 'Lyon: a city' },
  ]);

  steps = await h.client.beta.threads.runs.steps.list(paused.id, { thread_id: thread.id, order: 'asc' });
  assertMatchesSpec('ListRunStepsResponse', await rawSteps(thread.id, paused.id));
  assert.deepEqual(steps.data.map((step) => [step.type, step.status]), [['tool_calls', 'completed'], ['message_creation', 'completed']]);
  const [toolStep, messageStep] = steps.data as [OpenAI.Beta.Threads.Runs.RunStep, OpenAI.Beta.Threads.Runs.RunStep];
  for (const step of steps.data) assertMatchesSpec('RunStepObject', step);
  assert.deepEqual(toolStep.usage, { prompt_tokens: 30, completion_tokens: 10, total_tokens: 40 });
  assert.equal(typeof toolStep.completed_at, 'number');
  assert.deepEqual(toolStep.step_details.type === 'tool_calls' && toolStep.step_details.tool_calls, [
    { id: calls[0]!.id, type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}', output: 'sunny' } },
    { id: calls[1]!.id, type: 'function', function: { name: 'lookup', arguments: '{"q":"Lyon"}', output: 'Lyon: a city' } },
  ]);
  assert.deepEqual(messageStep.usage, { prompt_tokens: 50, completion_tokens: 8, total_tokens: 58 });
  const messageId = messageStep.step_details.type === 'message_creation' ? messageStep.step_details.message_creation.message_id : '';
  const message = await h.client.beta.threads.messages.retrieve(messageId, { thread_id: thread.id });
  assertMatchesSpec('MessageObject', message);
  assert.equal(textOf(message), 'Paris is sunny; Lyon is a city.');
  assert.equal(message.run_id, done.id);
});

test('a run object keeps its settings through the whole lifecycle', async () => {
  const assistant = await newAssistant();
  const thread = await newThread('Hi');
  h.model.script({ text: 'ok' });
  const run: Run = await h.client.beta.threads.runs.create(thread.id, {
    assistant_id: assistant.id,
    max_prompt_tokens: 5000,
    max_completion_tokens: 300,
    truncation_strategy: { type: 'last_messages', last_messages: 4 },
    parallel_tool_calls: false,
  });
  assertMatchesSpec('RunObject', run);
  assert.equal(run.status, 'queued');
  const done = await h.client.beta.threads.runs.poll(run.id, { thread_id: thread.id }, POLL);
  assert.equal(done.status, 'completed');
  assert.equal(done.max_prompt_tokens, 5000);
  assert.equal(done.max_completion_tokens, 300);
  assert.deepEqual(done.truncation_strategy, { type: 'last_messages', last_messages: 4 });
  assert.equal(done.parallel_tool_calls, false);
  assert.equal(h.model.requests.at(-1)!.body.max_tokens, 300);
});

test('run and vector store responses pace the SDK poll helpers with openai-poll-after-ms; others do not', async () => {
  const assistant = await h.client.beta.assistants.create({ model: 'gpt-4o' });
  h.model.script({ text: 'paced' });
  const run = await h.client.beta.threads.createAndRun({ assistant_id: assistant.id });
  const { response: runResponse } = await h.client.beta.threads.runs.retrieve(run.id, { thread_id: run.thread_id }).withResponse();
  assert.equal(runResponse.headers.get('openai-poll-after-ms'), '20');
  const store = await h.client.vectorStores.create({});
  const { response: storeResponse } = await h.client.vectorStores.retrieve(store.id).withResponse();
  assert.equal(storeResponse.headers.get('openai-poll-after-ms'), '20');
  const { response: assistantResponse } = await h.client.beta.assistants.retrieve(assistant.id).withResponse();
  assert.equal(assistantResponse.headers.get('openai-poll-after-ms'), null);
  await h.client.beta.threads.runs.poll(run.id, { thread_id: run.thread_id });
});
