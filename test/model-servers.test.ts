import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type OpenAI from 'openai';
import type { Message } from 'openai/resources/beta/threads/messages';
import { assertMatchesSpec, type Harness, startHarness } from './support/harness.js';

// Real servers' wire habits, each replayed by the scripted model over HTTP, driven through the SDK.

const POLL = { pollIntervalMs: 20 };
const weather = { type: 'function' as const, function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } };
const time = { type: 'function' as const, function: { name: 'get_time', parameters: { type: 'object', properties: {} } } };
const PARALLEL_CALLS = [
  { name: 'get_weather', arguments: '{"city":"Paris"}' },
  { name: 'get_time', arguments: '{}' },
];

const dir = mkdtempSync(join(tmpdir(), 'stepwise-models-'));
const configPath = join(dir, 'models.json');
writeFileSync(configPath, JSON.stringify({
  models: {
    'local-thinker': { model: 'qwq-32b', reasoning: true },
    'text-only': { model: 'tiny-llm', tools: false },
    'single-caller': { model: 'mistral-small', parallelToolCalls: false },
  },
}));

let h: Harness;
before(async () => {
  h = await startHarness({ env: { STEPWISE_CONFIG: configPath } });
});
after(async () => {
  await h.close();
  rmSync(dir, { recursive: true, force: true });
});

function textOf(message: Message | undefined): string {
  return message?.content.map((part) => (part.type === 'text' ? part.text.value : '')).join('') ?? '';
}

async function newAssistant(params: Partial<OpenAI.Beta.AssistantCreateParams> = {}) {
  return h.client.beta.assistants.create({ model: 'gpt-4o', instructions: 'Be brief.', ...params });
}

/** Runs a new thread to its first stop: completed, requires_action, failed... */
async function runOnNewThread(assistant: { id: string }, params: Omit<OpenAI.Beta.Threads.RunCreateParamsNonStreaming, 'assistant_id'> = {}) {
  const thread = await h.client.beta.threads.create({ messages: [{ role: 'user', content: 'Weather and time in Paris?' }] });
  const run = await h.client.beta.threads.runs.createAndPoll(thread.id, { assistant_id: assistant.id, ...params }, POLL);
  return { thread, run };
}

function requiredCalls(run: OpenAI.Beta.Threads.Run) {
  return (run.required_action?.submit_tool_outputs.tool_calls ?? []).map((call) => ({ name: call.function.name, arguments: call.function.arguments }));
}

async function submitAll(threadId: string, run: OpenAI.Beta.Threads.Run, output = 'ok') {
  const tool_outputs = run.required_action!.submit_tool_outputs.tool_calls.map((call) => ({ tool_call_id: call.id, output }));
  return h.client.beta.threads.runs.submitToolOutputsAndPoll(run.id, { thread_id: threadId, tool_outputs }, POLL);
}

async function lastMessage(threadId: string): Promise<Message> {
  const list = await h.client.beta.threads.messages.list(threadId, { order: 'desc', limit: 1 });
  return list.data[0]!;
}

describe('tool calls streamed in servers\' habits', () => {
  for (const [habit, title] of [
    ['index-zero', 'parallel calls all at index 0 with distinct ids (Ollama) stay two calls'],
    ['no-index', 'calls streamed without an index are told apart by their ids'],
    ['repeated-name', 'a name repeated in every fragment is the name once'],
    ['id-per-piece', 'a fresh id on every fragment does not start a new call'],
  ] as const) {
    test(title, async () => {
      const assistant = await newAssistant({ tools: [weather, time] });
      h.model.script({ toolCalls: PARALLEL_CALLS, toolCallHabit: habit });
      const { run } = await runOnNewThread(assistant);
      assert.equal(run.status, 'requires_action');
      assert.deepEqual(requiredCalls(run), PARALLEL_CALLS);
    });
  }

  test('the model\'s own ids (Mistral\'s 9 characters) go back to it; ids it does not give are ours', async () => {
    const assistant = await newAssistant({ tools: [weather, time] });
    h.model.script({ toolCalls: PARALLEL_CALLS, toolCallIds: ['D681PevKs', 'x7Yq2LmN0'] }, { text: 'Sunny, noon.' });
    const { thread, run } = await runOnNewThread(assistant);
    const next = h.model.requests.length;
    assert.equal((await submitAll(thread.id, run)).status, 'completed');
    const prompt = h.model.requests[next]!.body.messages;
    const calls = prompt.find((message) => message.tool_calls)?.tool_calls as { id: string }[];
    assert.deepEqual(calls.map((call) => call.id), ['D681PevKs', 'x7Yq2LmN0']);
    assert.deepEqual(prompt.filter((message) => message.role === 'tool').map((message) => message.tool_call_id), ['D681PevKs', 'x7Yq2LmN0']);

    h.model.script({ toolCalls: PARALLEL_CALLS, toolCallIds: null }, { text: 'Sunny, noon.' });
    const unnamed = await runOnNewThread(assistant);
    const ids = unnamed.run.required_action!.submit_tool_outputs.tool_calls.map((call) => call.id);
    assert.ok(ids.every((id) => id.startsWith('call_')), `ids of our own: ${ids.join(', ')}`);
    const nextUnnamed = h.model.requests.length;
    await submitAll(unnamed.thread.id, unnamed.run);
    const replayed = h.model.requests[nextUnnamed]!.body.messages.filter((message) => message.role === 'tool').map((message) => message.tool_call_id);
    assert.deepEqual(replayed, ids);
  });

  test('text streamed after the tool calls becomes a message of its own after their outputs, and the model sees it', async () => {
    const assistant = await newAssistant({ tools: [weather] });
    h.model.script({ toolCalls: [PARALLEL_CALLS[0]!], textAfterToolCalls: 'Checking the weather now.' }, { text: 'Sunny.' });
    const thread = await h.client.beta.threads.create({ messages: [{ role: 'user', content: 'Weather in Paris?' }] });
    const paused = await h.client.beta.threads.runs.stream(thread.id, { assistant_id: assistant.id }).finalRun();
    assert.equal(paused.status, 'requires_action');

    const next = h.model.requests.length;
    const tool_outputs = [{ tool_call_id: paused.required_action!.submit_tool_outputs.tool_calls[0]!.id, output: '18°C' }];
    const resumed = h.client.beta.threads.runs.submitToolOutputsStream(paused.id, { thread_id: thread.id, tool_outputs });
    const texts: string[] = [];
    resumed.on('textDone', (text) => texts.push(text.value));
    assert.equal((await resumed.finalRun()).status, 'completed');
    assert.deepEqual(texts, ['Checking the weather now.', 'Sunny.']);
    const prompt = h.model.requests[next]!.body.messages;
    assert.deepEqual(prompt.slice(-3).map((message) => message.role), ['assistant', 'tool', 'assistant']);
    assert.equal(prompt.at(-1)!.content, 'Checking the weather now.');
    const messages = await h.client.beta.threads.messages.list(thread.id, { order: 'asc' });
    assert.deepEqual(messages.data.map(textOf), ['Weather in Paris?', 'Checking the weather now.', 'Sunny.']);
  });

  test('text after calls that hosted tools answer becomes a message before the next model call', async () => {
    const assistant = await newAssistant({ tools: [{ type: 'file_search' }] });
    h.model.script({ toolCalls: [{ name: 'file_search', arguments: '{"query":"rain"}' }], textAfterToolCalls: 'Searching.' }, { text: 'Nothing on rain.' });
    const { thread, run } = await runOnNewThread(assistant);
    assert.equal(run.status, 'completed');
    assert.equal(h.model.requests.at(-1)!.body.messages.at(-1)!.content, 'Searching.');
    const messages = await h.client.beta.threads.messages.list(thread.id, { order: 'asc' });
    assert.deepEqual(messages.data.map(textOf).slice(1), ['Searching.', 'Nothing on rain.']);
  });
});

describe('answers and finish reasons', () => {
  test('a plain JSON chat.completion answering a stream request is read whole: text, and tool calls', async () => {
    const assistant = await newAssistant({ tools: [weather, time] });
    h.model.script({ text: 'Hello from a JSON answer.', json: true, usage: { prompt_tokens: 30, completion_tokens: 6 } });
    const { thread, run } = await runOnNewThread(assistant);
    assert.equal(run.status, 'completed');
    assert.equal(textOf(await lastMessage(thread.id)), 'Hello from a JSON answer.');
    assert.deepEqual(run.usage, { prompt_tokens: 30, completion_tokens: 6, total_tokens: 36 });

    h.model.script({ toolCalls: PARALLEL_CALLS, json: true });
    const calls = await runOnNewThread(assistant);
    assert.equal(calls.run.status, 'requires_action');
    assert.deepEqual(requiredCalls(calls.run), PARALLEL_CALLS);
  });

  test('content_filter leaves the message incomplete with that reason; the run completes', async () => {
    const assistant = await newAssistant();
    h.model.script({ text: 'I can', finishReason: 'content_filter' });
    const { thread, run } = await runOnNewThread(assistant);
    assert.equal(run.status, 'completed');
    const message = await lastMessage(thread.id);
    assertMatchesSpec('MessageObject', message);
    assert.equal(message.status, 'incomplete');
    assert.deepEqual(message.incomplete_details, { reason: 'content_filter' });
    assert.equal(textOf(message), 'I can');
  });

  test('length without max_completion_tokens leaves the message incomplete (max_tokens); the run completes', async () => {
    const assistant = await newAssistant();
    h.model.script({ text: 'It was the best of', finishReason: 'length' });
    const { thread, run } = await runOnNewThread(assistant);
    assert.equal(run.status, 'completed');
    assert.equal(run.incomplete_details, null);
    const message = await lastMessage(thread.id);
    assert.equal(message.status, 'incomplete');
    assert.deepEqual(message.incomplete_details, { reason: 'max_tokens' });
  });
});

describe('a server that refuses stream_options', () => {
  let refusing: Harness;
  before(async () => {
    refusing = await startHarness();
    refusing.model.refuseStreamOptions = true;
  });
  after(() => refusing.close());

  test('is asked again without them once, and never with them again', async () => {
    const assistant = await refusing.client.beta.assistants.create({ model: 'gpt-4o' });
    for (const reply of ['first', 'second']) {
      refusing.model.script({ text: reply });
      const run = await refusing.client.beta.threads.createAndRunPoll({ assistant_id: assistant.id, thread: { messages: [{ role: 'user', content: 'hi' }] } }, POLL);
      assert.equal(run.status, 'completed');
      assert.ok(run.usage && run.usage.completion_tokens > 0, 'usage is estimated when the server reports none');
    }
    assert.deepEqual(refusing.model.requests.map((request) => request.body.stream_options !== undefined), [true, false, false]);
  });
});

describe('reasoning models and capability fields', () => {
  test('a reasoning model gets max_completion_tokens and reasoning_effort, never max_tokens or sampling parameters', async () => {
    const assistant = await newAssistant({ model: 'o3-mini', reasoning_effort: 'high', temperature: 0.3, top_p: 0.8 });
    h.model.script({ text: 'Thought it through.' }, { text: 'Quickly.' });
    await runOnNewThread(assistant, { max_completion_tokens: 512 });
    const first = h.model.requests.at(-1)!.body;
    assert.equal(first.model, 'o3-mini');
    assert.equal(first.max_completion_tokens, 512);
    assert.equal(first.reasoning_effort, 'high');
    for (const field of ['max_tokens', 'temperature', 'top_p']) assert.equal(field in first, false, `${field} is not sent`);

    await runOnNewThread(assistant, { reasoning_effort: 'low' });
    const second = h.model.requests.at(-1)!.body;
    assert.equal(second.reasoning_effort, 'low', "the run's own effort wins");
    assert.equal('max_completion_tokens' in second, false);
  });

  test('the config marks a model as reasoning with "reasoning": true', async () => {
    const assistant = await newAssistant({ model: 'local-thinker', reasoning_effort: 'medium' });
    h.model.script({ text: 'Hmm.' });
    await runOnNewThread(assistant, { max_completion_tokens: 384 });
    const body = h.model.requests.at(-1)!.body;
    assert.equal(body.model, 'qwq-32b');
    assert.equal(body.max_completion_tokens, 384);
    assert.equal(body.reasoning_effort, 'medium');
    assert.equal('max_tokens' in body, false);
  });

  test('other models get temperature and top_p only when set, max_tokens, and no reasoning_effort', async () => {
    h.model.script({ text: 'Default sampling.' }, { text: 'Set sampling.' });
    await runOnNewThread(await newAssistant({ reasoning_effort: 'high' }), { max_completion_tokens: 256 });
    const unset = h.model.requests.at(-1)!.body;
    for (const field of ['temperature', 'top_p', 'reasoning_effort', 'max_completion_tokens']) assert.equal(field in unset, false, `${field} is not sent`);
    assert.equal(unset.max_tokens, 256);

    await runOnNewThread(await newAssistant({ temperature: 0.2 }), { top_p: 0.9 });
    const set = h.model.requests.at(-1)!.body;
    assert.equal(set.temperature, 0.2);
    assert.equal(set.top_p, 0.9);
  });

  test('"tools": false fails a run with tools before calling the model, naming the model', async () => {
    const assistant = await newAssistant({ model: 'text-only', tools: [weather] });
    const before = h.model.requests.length;
    const { run } = await runOnNewThread(assistant);
    assert.equal(run.status, 'failed');
    assert.equal(run.last_error?.code, 'invalid_prompt');
    assert.match(run.last_error?.message ?? '', /text-only.*"tools": false/);
    assert.equal(h.model.requests.length, before, 'the model was not called');

    h.model.script({ text: 'Plain text works.' });
    const plain = await runOnNewThread(await newAssistant({ model: 'text-only' }));
    assert.equal(plain.run.status, 'completed');
  });

  test('"parallelToolCalls": false never sends parallel_tool_calls', async () => {
    h.model.script({ text: 'One at a time.' }, { text: 'Many at once.' });
    await runOnNewThread(await newAssistant({ model: 'single-caller', tools: [weather] }));
    assert.equal('parallel_tool_calls' in h.model.requests.at(-1)!.body, false);
    await runOnNewThread(await newAssistant({ tools: [weather] }), { parallel_tool_calls: false });
    assert.equal(h.model.requests.at(-1)!.body.parallel_tool_calls, false);
  });
});

describe('tool_choice as the hosted API applies it', () => {
  for (const [choice, sent] of [
    ['required', 'required'],
    [{ type: 'function', function: { name: 'get_weather' } }, { type: 'function', function: { name: 'get_weather' } }],
  ] as const) {
    test(`${JSON.stringify(choice)} forces the first model call only; the next is auto`, async () => {
      const assistant = await newAssistant({ tools: [weather] });
      h.model.script({ toolCalls: [PARALLEL_CALLS[0]!] }, { text: 'Sunny.' });
      const next = h.model.requests.length;
      const { thread, run } = await runOnNewThread(assistant, { tool_choice: choice });
      assert.equal((await submitAll(thread.id, run)).status, 'completed');
      assert.deepEqual(h.model.requests.slice(next).map((request) => request.body.tool_choice), [sent, 'auto']);
    });
  }

  test('file_search and code_interpreter choices force their functions on the first call', async () => {
    const searcher = await newAssistant({ tools: [{ type: 'file_search' }] });
    h.model.script({ toolCalls: [{ name: 'file_search', arguments: '{"query":"rain"}' }] }, { text: 'Nothing found.' });
    const next = h.model.requests.length;
    const searched = await runOnNewThread(searcher, { tool_choice: { type: 'file_search' } });
    assert.equal(searched.run.status, 'completed');
    assert.deepEqual(h.model.requests.slice(next).map((request) => request.body.tool_choice), [{ type: 'function', function: { name: 'file_search' } }, 'auto']);

    const coder = await newAssistant({ tools: [{ type: 'code_interpreter' }] });
    h.model.script({ text: 'No code needed.' });
    await runOnNewThread(coder, { tool_choice: { type: 'code_interpreter' } });
    assert.deepEqual(h.model.requests.at(-1)!.body.tool_choice, { type: 'function', function: { name: 'code_interpreter' } });
  });
});

test("a later run's prompt keeps the earlier runs' tool calls and their outputs", async () => {
  const assistant = await newAssistant({ tools: [weather] });
  h.model.script({ toolCalls: [PARALLEL_CALLS[0]!] }, { text: 'It is 18°C.' }, { text: 'Yes, take a jacket.' });
  const { thread, run } = await runOnNewThread(assistant);
  assert.equal((await submitAll(thread.id, run, '18°C, windy')).status, 'completed');
  await h.client.beta.threads.messages.create(thread.id, { role: 'user', content: 'Jacket?' });
  const later = await h.client.beta.threads.runs.createAndPoll(thread.id, { assistant_id: assistant.id }, POLL);
  assert.equal(later.status, 'completed');
  const prompt = h.model.requests.at(-1)!.body.messages;
  assert.deepEqual(prompt.map((message) => message.role), ['system', 'user', 'assistant', 'tool', 'assistant', 'user']);
  assert.deepEqual(prompt[2]!.tool_calls, [{ id: 'call_scripted_0', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }]);
  assert.deepEqual({ id: prompt[3]!.tool_call_id, content: prompt[3]!.content }, { id: 'call_scripted_0', content: '18°C, windy' });
  assert.equal(prompt[4]!.content, 'It is 18°C.');
});
