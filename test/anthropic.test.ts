import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { toFile } from 'openai';
import type { AssistantStreamEvent } from 'openai/resources/beta/assistants';
import { assertMatchesSpec, type Harness, startHarness } from './support/harness.js';
import { ScriptedAnthropic } from './support/scripted-anthropic.js';

// The native Anthropic provider, against a scripted Messages API server, driven through the openai SDK.

const POLL = { pollIntervalMs: 20 };
const weather = { type: 'function' as const, function: { name: 'get_weather', description: 'Weather of a city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } } };

let claude: ScriptedAnthropic;
let h: Harness;
const dir = mkdtempSync(join(tmpdir(), 'stepwise-anthropic-'));
before(async () => {
  claude = await ScriptedAnthropic.start();
  const configPath = join(dir, 'config.json');
  writeFileSync(configPath, JSON.stringify({
    providers: { anthropic: { type: 'anthropic', baseURL: claude.url, apiKey: 'sk-ant-test' } },
    models: { 'claude-sonnet': { provider: 'anthropic', model: 'claude-sonnet-4-5' } },
  }));
  h = await startHarness({ env: { STEPWISE_CONFIG: configPath } });
});
after(async () => {
  await h.close();
  await claude.close();
  rmSync(dir, { recursive: true, force: true });
});

test('streamed text reaches the SDK; the request is a Messages API request with merged turns and images', async () => {
  const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 1, 2, 3]);
  const image = await h.client.files.create({ file: await toFile(png, 'chart.png'), purpose: 'vision' });
  const assistant = await h.client.beta.assistants.create({ model: 'claude-sonnet', instructions: 'Be brief.' });
  claude.script({ text: ['Hello', ' from', ' Claude.'], usage: { input_tokens: 40, output_tokens: 5 } });
  const stream = h.client.beta.threads.createAndRunStream({
    assistant_id: assistant.id,
    thread: {
      messages: [
        { role: 'user', content: 'Hi.' },
        { role: 'user', content: [{ type: 'text', text: 'What is this?' }, { type: 'image_url', image_url: { url: 'https://example.com/cat.png' } }] },
        { role: 'user', content: [{ type: 'image_file', image_file: { file_id: image.id } }] },
      ],
    },
  });
  const deltas: string[] = [];
  stream.on('textDelta', (delta) => deltas.push(delta.value ?? ''));
  const run = await stream.finalRun();
  assert.equal(run.status, 'completed');
  assert.deepEqual(deltas, ['Hello', ' from', ' Claude.']);
  assert.deepEqual(run.usage, { prompt_tokens: 40, completion_tokens: 5, total_tokens: 45 });

  const { body, headers } = claude.requests.at(-1)!;
  assert.equal(headers['x-api-key'], 'sk-ant-test');
  assert.ok(headers['anthropic-version'], 'the API version is sent');
  assert.equal(body.model, 'claude-sonnet-4-5');
  assert.equal(body.stream, true);
  assert.equal(body.system, 'Be brief.');
  assert.equal(body.max_tokens, 8192, 'max_tokens is required by the API');
  assert.deepEqual(body.messages, [
    {
      role: 'user',
      content: [
        { type: 'text', text: 'Hi.' },
        { type: 'text', text: 'What is this?' },
        { type: 'image', source: { type: 'url', url: 'https://example.com/cat.png' } },
        { type: 'image', source: { type: 'base64', media_type: 'image/png', data: png.toString('base64') } },
      ],
    },
  ]);
});

test('parallel tool use goes through requires_action and submitToolOutputsStream, with usage on the steps', async () => {
  const assistant = await h.client.beta.assistants.create({ model: 'claude-sonnet', tools: [weather] });
  claude.script(
    { text: ['Let me check.'], toolUses: [{ name: 'get_weather', input: { city: 'Paris' } }, { name: 'get_weather', input: { city: 'Rome' } }], usage: { input_tokens: 50, output_tokens: 30 } },
    { text: ['Paris 18°C, Rome 24°C.'], usage: { input_tokens: 90, output_tokens: 12 } },
  );
  const thread = await h.client.beta.threads.create({ messages: [{ role: 'user', content: 'Weather in Paris and Rome?' }] });
  const paused = await h.client.beta.threads.runs.stream(thread.id, { assistant_id: assistant.id, parallel_tool_calls: false }).finalRun();
  assert.equal(paused.status, 'requires_action');
  const calls = paused.required_action!.submit_tool_outputs.tool_calls;
  assert.deepEqual(calls.map((call) => [call.id, call.function.name, JSON.parse(call.function.arguments)]), [
    ['toolu_scripted_0', 'get_weather', { city: 'Paris' }],
    ['toolu_scripted_1', 'get_weather', { city: 'Rome' }],
  ]);
  const first = claude.requests.at(-1)!.body;
  assert.deepEqual(first.tools, [{ name: 'get_weather', description: 'Weather of a city', input_schema: weather.function.parameters }]);
  assert.deepEqual(first.tool_choice, { type: 'auto', disable_parallel_tool_use: true });

  const events: AssistantStreamEvent[] = [];
  const resumed = h.client.beta.threads.runs.submitToolOutputsStream(paused.id, {
    thread_id: thread.id,
    tool_outputs: [{ tool_call_id: 'toolu_scripted_0', output: '18°C' }, { tool_call_id: 'toolu_scripted_1', output: '24°C' }],
  });
  resumed.on('event', (event) => events.push(event));
  const done = await resumed.finalRun();
  assert.equal(done.status, 'completed');
  assert.ok(events.some((event) => event.event === 'thread.message.delta'));

  const second = claude.requests.at(-1)!.body;
  assert.deepEqual(second.messages, [
    { role: 'user', content: [{ type: 'text', text: 'Weather in Paris and Rome?' }] },
    {
      role: 'assistant',
      content: [
        { type: 'text', text: 'Let me check.' },
        { type: 'tool_use', id: 'toolu_scripted_0', name: 'get_weather', input: { city: 'Paris' } },
        { type: 'tool_use', id: 'toolu_scripted_1', name: 'get_weather', input: { city: 'Rome' } },
      ],
    },
    {
      role: 'user',
      content: [
        { type: 'tool_result', tool_use_id: 'toolu_scripted_0', content: '18°C' },
        { type: 'tool_result', tool_use_id: 'toolu_scripted_1', content: '24°C' },
      ],
    },
  ]);

  const steps = await h.client.beta.threads.runs.steps.list(paused.id, { thread_id: thread.id, order: 'asc' });
  for (const step of steps.data) assertMatchesSpec('RunStepObject', step);
  assert.deepEqual(steps.data.map((step) => [step.type, step.usage]), [
    ['message_creation', { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 }],
    ['tool_calls', { prompt_tokens: 50, completion_tokens: 30, total_tokens: 80 }],
    ['message_creation', { prompt_tokens: 90, completion_tokens: 12, total_tokens: 102 }],
  ]);
  assert.deepEqual(done.usage, { prompt_tokens: 140, completion_tokens: 42, total_tokens: 182 });
});

test('tool_choice maps to Anthropic\'s: required is any, a named function is tool; max_tokens ends the message incomplete', async () => {
  const assistant = await h.client.beta.assistants.create({ model: 'claude-sonnet', tools: [weather] });
  claude.script({ text: ['Sure'] }, { text: ['It was the best of'], stopReason: 'max_tokens' });
  await h.client.beta.threads.createAndRunPoll({ assistant_id: assistant.id, tool_choice: 'required', thread: { messages: [{ role: 'user', content: 'Go.' }] } }, POLL);
  assert.deepEqual(claude.requests.at(-1)!.body.tool_choice, { type: 'any' });

  const run = await h.client.beta.threads.createAndRunPoll(
    { assistant_id: assistant.id, tool_choice: { type: 'function', function: { name: 'get_weather' } }, thread: { messages: [{ role: 'user', content: 'Go.' }] } },
    POLL,
  );
  assert.deepEqual(claude.requests.at(-1)!.body.tool_choice, { type: 'tool', name: 'get_weather' });
  assert.equal(run.status, 'completed');
  const [message] = (await h.client.beta.threads.messages.list(run.thread_id, { order: 'desc', limit: 1 })).data;
  assert.equal(message?.status, 'incomplete');
  assert.deepEqual(message?.incomplete_details, { reason: 'max_tokens' });
});

test('an overloaded Anthropic server (529) is retried; a 400 fails the run with invalid_prompt', async () => {
  const assistant = await h.client.beta.assistants.create({ model: 'claude-sonnet' });
  claude.script({ status: 529, type: 'overloaded_error', message: 'Overloaded' }, { text: ['Back.'] });
  const retried = await h.client.beta.threads.createAndRunPoll({ assistant_id: assistant.id, thread: { messages: [{ role: 'user', content: 'Hi.' }] } }, POLL);
  assert.equal(retried.status, 'completed');

  claude.script({ status: 400, type: 'invalid_request_error', message: 'messages: roles must alternate' });
  const refused = await h.client.beta.threads.createAndRunPoll({ assistant_id: assistant.id, thread: { messages: [{ role: 'user', content: 'Hi.' }] } }, POLL);
  assert.equal(refused.status, 'failed');
  assert.equal(refused.last_error?.code, 'invalid_prompt');
  assert.match(refused.last_error?.message ?? '', /roles must alternate/);
});
