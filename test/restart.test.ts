import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import OpenAI, { toFile } from 'openai';
import { minimalPdf } from './support/documents.js';
import { eventually } from './support/harness.js';
import { type StepwiseProcess, spawnStepwise } from './support/processes.js';
import { ScriptedModel } from './support/scripted-model.js';
import { createThrowawayDatabase, TEST_DATABASE_URL, type ThrowawayDatabase } from './support/test-database.js';

let model: ScriptedModel;
let dataDir: string;
let server: StepwiseProcess | undefined;
let database: ThrowawayDatabase | undefined;

async function serve(): Promise<OpenAI> {
  server = await spawnStepwise({
    STEPWISE_DATA_DIR: dataDir,
    ...(database && { DATABASE_URL: database.url, STEPWISE_RUN_LEASE_MS: '2000' }),
    OPENAI_BASE_URL: model.url,
    OPENAI_API_KEY: 'k',
  });
  return new OpenAI({ baseURL: server.url, apiKey: 'k', maxRetries: 0 });
}

before(async () => {
  model = await ScriptedModel.start();
  dataDir = mkdtempSync(join(tmpdir(), 'stepwise-restart-'));
  if (TEST_DATABASE_URL) database = await createThrowawayDatabase(TEST_DATABASE_URL);
});

after(async () => {
  await server?.kill();
  await model.close();
  await database?.drop();
  rmSync(dataDir, { recursive: true, force: true });
});

test('a server killed with SIGKILL mid-run restarts, takes the run over to completion, and keeps everything stored', async () => {
  let client = await serve();
  const assistant = await client.beta.assistants.create({ model: 'gpt-4o', instructions: 'Answer.' });
  const thread = await client.beta.threads.create({ messages: [{ role: 'user', content: 'Tell me a story' }] });
  model.script({ text: ['Once ', 'upon ', 'a ', 'time'], chunkDelayMs: 60_000 });
  const run = await client.beta.threads.runs.create(thread.id, { assistant_id: assistant.id });
  // Killed while the first words of the answer are streaming.
  await eventually(async () => ((await client.beta.threads.runs.steps.list(run.id, { thread_id: thread.id })).data.length > 0 ? true : undefined));

  await server!.kill();
  model.script({ text: 'Once upon a time.' });
  client = await serve();

  const settled = await client.beta.threads.runs.poll(run.id, { thread_id: thread.id }, { pollIntervalMs: 20 });
  assert.equal(settled.status, 'completed');
  const steps = await client.beta.threads.runs.steps.list(run.id, { thread_id: thread.id });
  assert.deepEqual(steps.data.map((step) => step.status), ['completed']);
  const messages = await client.beta.threads.messages.list(thread.id, { order: 'asc' });
  const texts = messages.data.map((message) => (message.content[0]?.type === 'text' ? message.content[0].text.value : ''));
  assert.deepEqual(texts, ['Tell me a story', 'Once upon a time.']);
  assert.equal((await client.beta.assistants.retrieve(assistant.id)).instructions, 'Answer.');

  model.script({ text: 'The end.' });
  const next = await client.beta.threads.runs.createAndPoll(thread.id, { assistant_id: assistant.id }, { pollIntervalMs: 20 });
  assert.equal(next.status, 'completed');
});

test('SIGTERM after a streamed run and an indexed PDF shuts the server down cleanly: exit code 0, no signal', async () => {
  await server?.kill();
  const client = await serve();
  const store = await client.vectorStores.create({ name: 'docs' });
  const file = await client.vectorStores.files.uploadAndPoll(store.id, await toFile(minimalPdf(['Pears ripen off the tree.']), 'pears.pdf'));
  assert.equal(file.status, 'completed');
  const assistant = await client.beta.assistants.create({ model: 'gpt-4o', tools: [{ type: 'file_search' }], tool_resources: { file_search: { vector_store_ids: [store.id] } } });
  model.script({ text: ['Pears ', 'ripen.'] });
  const stream = client.beta.threads.createAndRunStream({ assistant_id: assistant.id, thread: { messages: [{ role: 'user', content: 'Pears?' }] } });
  assert.equal((await stream.finalRun()).status, 'completed');

  // Native addons (better-sqlite3 up to 12 on Node 24) and open threads are what abort at exit.
  assert.deepEqual(await server!.terminate(), { code: 0, signal: null });
});
