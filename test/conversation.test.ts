import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { assertMatchesSpec, type Harness, startHarness } from './support/harness.js';

let h: Harness;
before(async () => {
  h = await startHarness();
});
after(() => h.close());

// The README's promise: a streamed conversation with a function call, through the unchanged SDK.
test('a streamed conversation with a function call, end to end', async () => {
  const weather = { type: 'function' as const, function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } };
  const assistant = await h.client.beta.assistants.create({ model: 'gpt-4o', instructions: 'Be brief.', tools: [weather] });
  const thread = await h.client.beta.threads.create({ messages: [{ role: 'user', content: 'Weather in Paris?' }] });

  h.model.script({ text: 'Let me check. ', toolCalls: [{ name: 'get_weather', arguments: '{"city":"Paris"}' }] });
  const first = h.client.beta.threads.runs.stream(thread.id, { assistant_id: assistant.id });
  let streamedText = '';
  first.on('textDelta', (delta) => (streamedText += delta.value ?? ''));
  const paused = await first.finalRun();
  assert.equal(streamedText, 'Let me check. ');
  assert.equal(paused.status, 'requires_action');
  const [call] = paused.required_action!.submit_tool_outputs.tool_calls;
  assert.deepEqual(call?.function, { name: 'get_weather', arguments: '{"city":"Paris"}' });

  h.model.script({ text: ['Sunny, ', '20°C.'] });
  const second = h.client.beta.threads.runs.submitToolOutputsStream(paused.id, { thread_id: thread.id, tool_outputs: [{ tool_call_id: call!.id, output: '20C, sunny' }] });
  const done = await second.finalRun();
  assertMatchesSpec('RunObject', done);
  assert.equal(done.status, 'completed');
  assert.deepEqual(done.usage, { prompt_tokens: 22, completion_tokens: 14, total_tokens: 36 });

  // The model's second call saw the whole exchange, with our tool call id.
  const prompt = h.model.requests[1]!.body.messages;
  assert.deepEqual(prompt.map((message) => message.role), ['system', 'user', 'assistant', 'assistant', 'tool']);
  assert.equal(prompt[4]!.tool_call_id, call!.id);
  assert.equal(prompt[4]!.content, '20C, sunny');

  const messages = await h.client.beta.threads.messages.list(thread.id, { order: 'asc' });
  assert.deepEqual(
    messages.data.map((message) => [message.role, message.content[0]?.type === 'text' ? message.content[0].text.value : '']),
    [['user', 'Weather in Paris?'], ['assistant', 'Let me check. '], ['assistant', 'Sunny, 20°C.']],
  );
  const steps = await h.client.beta.threads.runs.steps.list(paused.id, { thread_id: thread.id, order: 'asc' });
  assert.deepEqual(steps.data.map((step) => [step.type, step.status]), [['message_creation', 'completed'], ['tool_calls', 'completed'], ['message_creation', 'completed']]);
  for (const step of steps.data) assertMatchesSpec('RunStepObject', step);
});

// js-tiktoken's BPE is quadratic in the length of one unbroken word, and a stalled event loop stops
// every timer, so the count runs in a child process that is killed if it takes minutes.
test('a 200,000-character word is counted in seconds, and a run over it completes', async () => {
  const script = "import('./src/engine/tokens.ts').then((tokens) => console.log(tokens.countTokens('x'.repeat(200000))))";
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', '-e', script], { timeout: 60_000 });
  assert.ok(Number(stdout) >= 200_000 / 8, `counted ${stdout.trim()} tokens`);
  const assistant = await h.client.beta.assistants.create({ model: 'gpt-4o' });
  const thread = await h.client.beta.threads.create({ messages: [{ role: 'user', content: 'x'.repeat(200_000) }] });
  h.model.script({ text: 'ok' });
  const run = await h.client.beta.threads.runs.createAndPoll(thread.id, { assistant_id: assistant.id }, { pollIntervalMs: 20 });
  assert.equal(run.status, 'completed');
});
