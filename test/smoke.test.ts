import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { assertMatchesSpec, type Harness, startHarness } from './support/harness.js';

let h: Harness;
before(async () => {
  h = await startHarness();
});
after(() => h.close());

test('smoke: createAndPoll', async () => {
  const assistant = await h.client.beta.assistants.create({ model: 'gpt-4o', instructions: 'Be brief.' });
  assertMatchesSpec('AssistantObject', assistant);
  const thread = await h.client.beta.threads.create({ messages: [{ role: 'user', content: 'Hi' }] });
  h.model.script({ text: ['Hel', 'lo!'] });
  const run = await h.client.beta.threads.runs.createAndPoll(thread.id, { assistant_id: assistant.id });
  assertMatchesSpec('RunObject', run);
  assert.equal(run.status, 'completed');
  const messages = await h.client.beta.threads.messages.list(thread.id);
  console.log(JSON.stringify(messages.data.map((m) => m.content)));
  h.model.script({ toolCalls: [{ name: 'get_weather', arguments: '{"city":"Paris"}' }] }, { text: 'Sunny' });
  const stream = h.client.beta.threads.runs.stream(thread.id, { assistant_id: assistant.id, tools: [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object' } } }] });
  const events: string[] = [];
  stream.on('event', (e) => events.push(e.event));
  const final = await stream.finalRun();
  console.log(events.join(' '), final.status);
  const s2 = h.client.beta.threads.runs.submitToolOutputsStream(final.id, { thread_id: thread.id, tool_outputs: [{ tool_call_id: final.required_action!.submit_tool_outputs.tool_calls[0]!.id, output: '20C' }] });
  const ev2: string[] = [];
  s2.on('event', (e) => ev2.push(e.event));
  const done = await s2.finalRun();
  console.log(ev2.join(' '), done.status, JSON.stringify(done.usage));
  const steps = await h.client.beta.threads.runs.steps.list(final.id, { thread_id: thread.id });
  for (const s of steps.data) assertMatchesSpec('RunStepObject', s);
  console.log(JSON.stringify(h.model.requests.at(-1)?.body.messages));
});
