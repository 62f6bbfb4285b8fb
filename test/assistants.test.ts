import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { NotFoundError } from 'openai';
import type { AssistantCreateParams } from 'openai/resources/beta/assistants';
import { assertMatchesSpec, type Harness, startHarness } from './support/harness.js';

let h: Harness;
before(async () => {
  h = await startHarness();
});
after(() => h.close());

const FULL: AssistantCreateParams = {
  model: 'gpt-4o',
  name: 'Math tutor',
  description: 'Helps with homework',
  instructions: 'You are a personal math tutor.',
  tools: [
    { type: 'code_interpreter' },
    { type: 'file_search', file_search: { max_num_results: 5 } },
    {
      type: 'function',
      function: { name: 'get_weather', description: 'Weather for a city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] }, strict: true },
    },
  ],
  tool_resources: { code_interpreter: { file_ids: ['file-abc123'] }, file_search: { vector_store_ids: ['vs_abc123'] } },
  metadata: { owner: 'alice', tier: 'gold' },
  temperature: 0.3,
  top_p: 0.8,
  response_format: {
    type: 'json_schema',
    json_schema: { name: 'answer', schema: { type: 'object', properties: { value: { type: 'number' } } }, strict: true },
  },
};

test('create echoes every field and matches the spec', async () => {
  const before = Math.floor(Date.now() / 1000);
  const assistant = await h.client.beta.assistants.create(FULL);
  assertMatchesSpec('AssistantObject', assistant);
  assert.match(assistant.id, /^asst_/);
  assert.equal(assistant.object, 'assistant');
  assert.ok(Number.isInteger(assistant.created_at) && assistant.created_at >= before - 1 && assistant.created_at <= before + 5);
  assert.equal(assistant.model, 'gpt-4o');
  assert.equal(assistant.name, 'Math tutor');
  assert.equal(assistant.description, 'Helps with homework');
  assert.equal(assistant.instructions, 'You are a personal math tutor.');
  assert.deepEqual(assistant.tools, FULL.tools);
  assert.deepEqual(assistant.tool_resources, FULL.tool_resources);
  assert.deepEqual(assistant.metadata, { owner: 'alice', tier: 'gold' });
  assert.equal(assistant.temperature, 0.3);
  assert.equal(assistant.top_p, 0.8);
  assert.deepEqual(assistant.response_format, FULL.response_format);
});

test('create with only a model applies the defaults', async () => {
  const assistant = await h.client.beta.assistants.create({ model: 'gpt-4o-mini' });
  assertMatchesSpec('AssistantObject', assistant);
  assert.equal(assistant.name, null);
  assert.equal(assistant.description, null);
  assert.equal(assistant.instructions, null);
  assert.deepEqual(assistant.tools, []);
  assert.deepEqual(assistant.metadata, {});
  assert.equal(assistant.temperature, 1);
  assert.equal(assistant.top_p, 1);
  assert.equal(assistant.response_format, 'auto');
});

test('retrieve returns what create returned', async () => {
  const created = await h.client.beta.assistants.create(FULL);
  const retrieved = await h.client.beta.assistants.retrieve(created.id);
  assertMatchesSpec('AssistantObject', retrieved);
  assert.deepEqual(retrieved, created);
});

test('update changes only the given fields', async () => {
  const created = await h.client.beta.assistants.create(FULL);
  const updated = await h.client.beta.assistants.update(created.id, { name: 'Physics tutor', metadata: { owner: 'bob' }, temperature: 1.5 });
  assertMatchesSpec('AssistantObject', updated);
  assert.deepEqual(updated, { ...created, name: 'Physics tutor', metadata: { owner: 'bob' }, temperature: 1.5 });
  assert.deepEqual(await h.client.beta.assistants.retrieve(created.id), updated);
});

test('update can replace tools and clear nullable fields', async () => {
  const created = await h.client.beta.assistants.create(FULL);
  const updated = await h.client.beta.assistants.update(created.id, { tools: [{ type: 'code_interpreter' }], description: null, model: 'gpt-4.1' });
  assertMatchesSpec('AssistantObject', updated);
  assert.deepEqual(updated.tools, [{ type: 'code_interpreter' }]);
  assert.equal(updated.description, null);
  assert.equal(updated.model, 'gpt-4.1');
  assert.equal(updated.name, 'Math tutor');
  assert.equal(updated.instructions, FULL.instructions);
});

test('update of an unknown assistant is a 404', async () => {
  await assert.rejects(h.client.beta.assistants.update('asst_missing', { name: 'x' }), (error: unknown) => {
    assert.ok(error instanceof NotFoundError);
    assert.equal(error.code, 'not_found');
    return true;
  });
});

test('delete removes the assistant; it is then a 404 everywhere', async () => {
  const created = await h.client.beta.assistants.create({ model: 'gpt-4o' });
  const deleted = await h.client.beta.assistants.delete(created.id);
  assertMatchesSpec('DeleteAssistantResponse', deleted);
  assert.deepEqual(deleted, { id: created.id, object: 'assistant.deleted', deleted: true });
  await assert.rejects(h.client.beta.assistants.retrieve(created.id), NotFoundError);
  await assert.rejects(h.client.beta.assistants.delete(created.id), NotFoundError);
  const ids = [];
  for await (const assistant of h.client.beta.assistants.list({ limit: 100 })) ids.push(assistant.id);
  assert.ok(!ids.includes(created.id));
});

test('list returns assistants newest first by default and matches the spec', async () => {
  const a = await h.client.beta.assistants.create({ model: 'gpt-4o', name: 'list-a' });
  const b = await h.client.beta.assistants.create({ model: 'gpt-4o', name: 'list-b' });
  const response = await fetch(`${h.stepwise.url}/assistants?limit=2`, { headers: { 'OpenAI-Beta': 'assistants=v2' } });
  assert.equal(response.status, 200);
  const page = (await response.json()) as { object: string; data: { id: string }[]; first_id: string; last_id: string; has_more: boolean };
  assertMatchesSpec('ListAssistantsResponse', page);
  assert.equal(page.object, 'list');
  assert.deepEqual(page.data.map((x) => x.id), [b.id, a.id]);
  assert.equal(page.first_id, b.id);
  assert.equal(page.last_id, a.id);
  assert.equal(page.has_more, true);
  for (const item of page.data) assertMatchesSpec('AssistantObject', item);
});

test('null in create or update means the default, not a stored null', async () => {
  const nulls = { metadata: null, temperature: null, top_p: null, response_format: null, tool_resources: null, description: null };
  const created = await h.client.beta.assistants.create({ model: 'gpt-4o', ...nulls });
  const updated = await h.client.beta.assistants.update((await h.client.beta.assistants.create(FULL)).id, nulls);
  for (const assistant of [created, updated]) {
    assertMatchesSpec('AssistantObject', assistant);
    assert.deepEqual(assistant.metadata, {});
    assert.deepEqual(assistant.tool_resources, {});
    assert.equal(assistant.temperature, 1);
    assert.equal(assistant.top_p, 1);
    assert.equal(assistant.response_format, 'auto');
    assert.equal(assistant.description, null);
  }
  assert.equal(updated.name, FULL.name);
  assert.deepEqual(updated.tools, FULL.tools);
});
