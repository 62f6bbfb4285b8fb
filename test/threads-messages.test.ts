import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { BadRequestError, NotFoundError, toFile } from 'openai';
import { assertMatchesSpec, eventually, type Harness, startHarness } from './support/harness.js';

let h: Harness;
let ATTACHMENTS: { file_id: string; tools: ({ type: 'code_interpreter' } | { type: 'file_search' })[] }[];
before(async () => {
  h = await startHarness();
  const upload = async (name: string) => (await h.client.files.create({ file: await toFile(Buffer.from(`text of ${name}`), name), purpose: 'assistants' })).id;
  ATTACHMENTS = [
    { file_id: await upload('one.txt'), tools: [{ type: 'code_interpreter' }] },
    { file_id: await upload('two.txt'), tools: [{ type: 'file_search' }, { type: 'code_interpreter' }] },
  ];
});
after(() => h.close());

const IMAGE = { type: 'image_url' as const, image_url: { url: 'https://example.com/cat.png', detail: 'low' as const } };

async function oldestFirst(threadId: string) {
  const page = await h.client.beta.threads.messages.list(threadId, { order: 'asc' });
  for (const message of page.data) assertMatchesSpec('MessageObject', message);
  return page.data;
}

test('thread create stores initial messages, metadata and tool_resources', async () => {
  const store = await h.client.vectorStores.create({ name: 'thread files' });
  const thread = await h.client.beta.threads.create({
    messages: [
      { role: 'user', content: 'Hello there', metadata: { n: '1' } },
      { role: 'assistant', content: [{ type: 'text', text: 'Look:' }, IMAGE], attachments: ATTACHMENTS },
    ],
    metadata: { topic: 'cats' },
    tool_resources: { code_interpreter: { file_ids: ['file-ci'] }, file_search: { vector_store_ids: [store.id] } },
  });
  assertMatchesSpec('ThreadObject', thread);
  assert.match(thread.id, /^thread_/);
  assert.equal(thread.object, 'thread');
  assert.deepEqual(thread.metadata, { topic: 'cats' });
  assert.deepEqual(thread.tool_resources, { code_interpreter: { file_ids: ['file-ci'] }, file_search: { vector_store_ids: [store.id] } });
  // The file attached for file_search went into the thread's vector store.
  assert.deepEqual((await h.client.vectorStores.files.list(store.id)).data.map((file) => file.id), [ATTACHMENTS[1]!.file_id]);

  const [first, second, ...rest] = await oldestFirst(thread.id);
  assert.equal(rest.length, 0);
  assert.ok(first && second);
  assert.match(first.id, /^msg_/);
  assert.equal(first.thread_id, thread.id);
  assert.equal(first.role, 'user');
  assert.equal(first.status, 'completed');
  assert.equal(first.assistant_id, null);
  assert.equal(first.run_id, null);
  assert.deepEqual(first.content, [{ type: 'text', text: { value: 'Hello there', annotations: [] } }]);
  assert.deepEqual(first.attachments, []);
  assert.deepEqual(first.metadata, { n: '1' });
  assert.equal(second.role, 'assistant');
  assert.deepEqual(second.content, [{ type: 'text', text: { value: 'Look:', annotations: [] } }, IMAGE]);
  assert.deepEqual(second.attachments, ATTACHMENTS);
});

test('thread create with no body gives an empty thread', async () => {
  const thread = await h.client.beta.threads.create();
  assertMatchesSpec('ThreadObject', thread);
  assert.deepEqual(thread.metadata, {});
  assert.deepEqual(await oldestFirst(thread.id), []);
});

test('thread retrieve and modify', async () => {
  const thread = await h.client.beta.threads.create({ metadata: { a: '1' }, tool_resources: { code_interpreter: { file_ids: ['file-x'] } } });
  const retrieved = await h.client.beta.threads.retrieve(thread.id);
  assertMatchesSpec('ThreadObject', retrieved);
  assert.deepEqual(retrieved, thread);

  const modified = await h.client.beta.threads.update(thread.id, { metadata: { a: '2', b: '3' } });
  assertMatchesSpec('ThreadObject', modified);
  assert.deepEqual(modified, { ...thread, metadata: { a: '2', b: '3' } });

  const resourced = await h.client.beta.threads.update(thread.id, { tool_resources: { file_search: { vector_store_ids: ['vs_2'] } } });
  assert.deepEqual(resourced.tool_resources, { file_search: { vector_store_ids: ['vs_2'] } });
  assert.deepEqual(resourced.metadata, { a: '2', b: '3' });
  assert.deepEqual(await h.client.beta.threads.retrieve(thread.id), resourced);

  const cleared = await h.client.beta.threads.update(thread.id, { metadata: null, tool_resources: null });
  assertMatchesSpec('ThreadObject', cleared);
  assert.deepEqual(cleared.metadata, {});
  assert.deepEqual(cleared.tool_resources, {});
});

test('thread modify with a vector_stores helper naming a missing file is a 404 and leaves the thread unchanged', async () => {
  const thread = await h.client.beta.threads.create({ tool_resources: { file_search: { vector_store_ids: ['vs_keep'] } } });
  const response = await fetch(`${h.stepwise.url}/threads/${thread.id}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'OpenAI-Beta': 'assistants=v2' },
    body: JSON.stringify({ tool_resources: { file_search: { vector_stores: [{ file_ids: ['file-1'] }] } } }),
  });
  assert.equal(response.status, 404);
  const { error } = (await response.json()) as { error: { param: string } };
  assert.equal(error.param, 'tool_resources.file_search.vector_stores[0].file_ids');
  assert.deepEqual((await h.client.beta.threads.retrieve(thread.id)).tool_resources, { file_search: { vector_store_ids: ['vs_keep'] } });
});

test('thread create rejects a vector_stores helper naming a missing file, and bad metadata in initial messages', async () => {
  await assert.rejects(
    h.client.beta.threads.create({ tool_resources: { file_search: { vector_stores: [{ file_ids: ['file-1'] }] } } }),
    (error: unknown) => error instanceof NotFoundError && error.param === 'tool_resources.file_search.vector_stores[0].file_ids',
  );
  const tooMany = Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, 'v']));
  await assert.rejects(
    h.client.beta.threads.create({ messages: [{ role: 'user', content: 'ok' }, { role: 'user', content: 'x', metadata: tooMany }] }),
    (error: unknown) => error instanceof BadRequestError && error.param === 'messages[1].metadata',
  );
});

test('thread delete cascades to its messages', async () => {
  const thread = await h.client.beta.threads.create({ messages: [{ role: 'user', content: 'bye' }] });
  const [message] = await oldestFirst(thread.id);
  assert.ok(message);
  const deleted = await h.client.beta.threads.delete(thread.id);
  assertMatchesSpec('DeleteThreadResponse', deleted);
  assert.deepEqual(deleted, { id: thread.id, object: 'thread.deleted', deleted: true });
  await assert.rejects(h.client.beta.threads.retrieve(thread.id), NotFoundError);
  await assert.rejects(h.client.beta.threads.messages.retrieve(message.id, { thread_id: thread.id }), NotFoundError);
  await assert.rejects(h.client.beta.threads.messages.list(thread.id), NotFoundError);
  await assert.rejects(h.client.beta.threads.messages.create(thread.id, { role: 'user', content: 'again' }), NotFoundError);
  await assert.rejects(h.client.beta.threads.delete(thread.id), NotFoundError);
});

test('message create, retrieve, modify, delete', async () => {
  const thread = await h.client.beta.threads.create();
  const created = await h.client.beta.threads.messages.create(thread.id, {
    role: 'user',
    content: [{ type: 'text', text: 'What is this?' }, IMAGE],
    attachments: ATTACHMENTS,
    metadata: { k: 'v' },
  });
  assertMatchesSpec('MessageObject', created);
  assert.equal(created.object, 'thread.message');
  assert.equal(created.thread_id, thread.id);
  assert.deepEqual(created.content, [{ type: 'text', text: { value: 'What is this?', annotations: [] } }, IMAGE]);
  assert.deepEqual(created.attachments, ATTACHMENTS);
  assert.deepEqual(created.metadata, { k: 'v' });

  const retrieved = await h.client.beta.threads.messages.retrieve(created.id, { thread_id: thread.id });
  assertMatchesSpec('MessageObject', retrieved);
  assert.deepEqual(retrieved, created);

  const modified = await h.client.beta.threads.messages.update(created.id, { thread_id: thread.id, metadata: { k: 'w', extra: 'y' } });
  assertMatchesSpec('MessageObject', modified);
  assert.deepEqual(modified, { ...created, metadata: { k: 'w', extra: 'y' } });
  assert.deepEqual(await h.client.beta.threads.messages.retrieve(created.id, { thread_id: thread.id }), modified);
  const cleared = await h.client.beta.threads.messages.update(created.id, { thread_id: thread.id, metadata: null });
  assertMatchesSpec('MessageObject', cleared);
  assert.deepEqual(cleared.metadata, {});

  const deleted = await h.client.beta.threads.messages.delete(created.id, { thread_id: thread.id });
  assertMatchesSpec('DeleteMessageResponse', deleted);
  assert.deepEqual(deleted, { id: created.id, object: 'thread.message.deleted', deleted: true });
  await assert.rejects(h.client.beta.threads.messages.retrieve(created.id, { thread_id: thread.id }), NotFoundError);
  await assert.rejects(h.client.beta.threads.messages.delete(created.id, { thread_id: thread.id }), NotFoundError);
  assert.deepEqual(await oldestFirst(thread.id), []);
});

test('a message is not reachable through another thread', async () => {
  const one = await h.client.beta.threads.create({ messages: [{ role: 'user', content: 'mine' }] });
  const two = await h.client.beta.threads.create();
  const [message] = await oldestFirst(one.id);
  assert.ok(message);
  await assert.rejects(h.client.beta.threads.messages.retrieve(message.id, { thread_id: two.id }), NotFoundError);
  await assert.rejects(h.client.beta.threads.messages.update(message.id, { thread_id: two.id, metadata: {} }), NotFoundError);
  await assert.rejects(h.client.beta.threads.messages.delete(message.id, { thread_id: two.id }), NotFoundError);
  assert.equal((await oldestFirst(one.id)).length, 1);
});

test('message list pages within the thread and matches the spec', async () => {
  const thread = await h.client.beta.threads.create();
  const other = await h.client.beta.threads.create({ messages: [{ role: 'user', content: 'elsewhere' }] });
  const ids: string[] = [];
  for (const text of ['one', 'two', 'three']) ids.push((await h.client.beta.threads.messages.create(thread.id, { role: 'user', content: text })).id);
  const response = await fetch(`${h.stepwise.url}/threads/${thread.id}/messages?limit=2`, { headers: { 'OpenAI-Beta': 'assistants=v2' } });
  assert.equal(response.status, 200);
  const page = (await response.json()) as { data: { id: string }[]; first_id: string; last_id: string; has_more: boolean };
  assertMatchesSpec('ListMessagesResponse', page);
  assert.deepEqual(page.data.map((m) => m.id), [ids[2], ids[1]]);
  assert.equal(page.first_id, ids[2]);
  assert.equal(page.last_id, ids[1]);
  assert.equal(page.has_more, true);
  assert.deepEqual((await oldestFirst(thread.id)).map((m) => m.id), ids);
  assert.equal((await oldestFirst(other.id)).length, 1);
});

test('list filtered by run_id returns only the messages of that run', async () => {
  const assistant = await h.client.beta.assistants.create({ model: 'gpt-4o' });
  const thread = await h.client.beta.threads.create({ messages: [{ role: 'user', content: 'Say hi' }] });
  h.model.script({ text: 'hi' });
  const run = await h.client.beta.threads.runs.createAndPoll(thread.id, { assistant_id: assistant.id });
  assert.equal(run.status, 'completed');

  const all = await oldestFirst(thread.id);
  assert.equal(all.length, 2);
  const filtered = await h.client.beta.threads.messages.list(thread.id, { run_id: run.id });
  assert.equal(filtered.data.length, 1);
  const [reply] = filtered.data;
  assert.ok(reply);
  assertMatchesSpec('MessageObject', reply);
  assert.equal(reply.role, 'assistant');
  assert.equal(reply.run_id, run.id);
  assert.equal(reply.assistant_id, assistant.id);
  assert.deepEqual(reply.content, [{ type: 'text', text: { value: 'hi', annotations: [] } }]);
  assert.deepEqual((await h.client.beta.threads.messages.list(thread.id, { run_id: 'run_other' })).data, []);
});

test('createMessage on a thread with an active run is a 400 until the run ends', async () => {
  const assistant = await h.client.beta.assistants.create({ model: 'gpt-4o' });
  const thread = await h.client.beta.threads.create({ messages: [{ role: 'user', content: 'Wait' }] });
  h.model.script({ hang: true });
  const run = await h.client.beta.threads.runs.create(thread.id, { assistant_id: assistant.id });
  await assert.rejects(h.client.beta.threads.messages.create(thread.id, { role: 'user', content: 'More' }), (error: unknown) => {
    assert.ok(error instanceof BadRequestError);
    assert.equal(error.type, 'invalid_request_error');
    assert.ok(error.message.includes(run.id), error.message);
    return true;
  });
  await h.client.beta.threads.runs.cancel(run.id, { thread_id: thread.id });
  await eventually(async () => {
    const current = await h.client.beta.threads.runs.retrieve(run.id, { thread_id: thread.id });
    return current.status === 'cancelled' ? current : undefined;
  });
  const message = await h.client.beta.threads.messages.create(thread.id, { role: 'user', content: 'More' });
  assert.equal(message.thread_id, thread.id);
});

test('deleting a thread with an active run stops the run and removes everything', async () => {
  const assistant = await h.client.beta.assistants.create({ model: 'gpt-4o' });
  const thread = await h.client.beta.threads.create({ messages: [{ role: 'user', content: 'Wait' }] });
  h.model.script({ hang: true });
  const run = await h.client.beta.threads.runs.create(thread.id, { assistant_id: assistant.id });
  const deleted = await h.client.beta.threads.delete(thread.id);
  assert.equal(deleted.deleted, true);
  await assert.rejects(h.client.beta.threads.runs.retrieve(run.id, { thread_id: thread.id }), NotFoundError);
  await assert.rejects(h.client.beta.threads.messages.list(thread.id), NotFoundError);
  // Nothing of the stopped run comes back later.
  await new Promise((resolve) => setTimeout(resolve, 200));
  await assert.rejects(h.client.beta.threads.retrieve(thread.id), NotFoundError);
  await assert.rejects(h.client.beta.threads.runs.retrieve(run.id, { thread_id: thread.id }), NotFoundError);
  await assert.rejects(h.client.beta.threads.runs.steps.list(run.id, { thread_id: thread.id }), NotFoundError);
});
