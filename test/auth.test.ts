import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import OpenAI, { AuthenticationError, NotFoundError, toFile } from 'openai';
import { loadConfig } from '../src/config.js';
import { startStepwise } from '../src/server.js';
import { type Harness, startHarness } from './support/harness.js';

let h: Harness;
before(async () => {
  h = await startHarness();
});
after(() => h.close());

const clientWith = (apiKey: string) => new OpenAI({ baseURL: h.stepwise.url, apiKey, maxRetries: 0 });

const raw = (path: string, headers: Record<string, string> = {}) => fetch(`${h.stepwise.url}${path}`, { headers: { 'OpenAI-Beta': 'assistants=v2', ...headers } });

test('without keys the server is open on loopback, in the default project', async () => {
  assert.equal(await h.stepwise.authRequired(), false);
  const response = await raw('/assistants');
  assert.equal(response.status, 200);
  await h.client.beta.assistants.create({ model: 'gpt-4o', name: 'open mode' });
});

test('once a key exists, a missing, unknown or revoked key is a 401', async () => {
  const open = await h.client.beta.assistants.create({ model: 'gpt-4o' });
  const key = await h.stepwise.apiKeys.create('proj_default', 'ops');
  assert.match(key.secret, /^sk-proj-[A-Za-z0-9]{40}$/);
  assert.equal(await h.stepwise.authRequired(), true);

  const missing = await raw('/assistants');
  assert.equal(missing.status, 401);
  assert.deepEqual(Object.keys(((await missing.json()) as { error: object }).error).sort(), ['code', 'message', 'param', 'type']);
  const error = await h.client.beta.assistants.list().catch((e: unknown) => e);
  assert.ok(error instanceof AuthenticationError);
  assert.equal(error.status, 401);
  assert.equal(error.code, 'invalid_api_key');
  assert.equal(error.type, 'invalid_request_error');
  assert.match(error.message, /Incorrect API key provided/);
  assert.doesNotMatch(error.message, /sk-test/);

  // The default project's key sees what was made while the server was open.
  const ops = clientWith(key.secret);
  assert.equal((await ops.beta.assistants.retrieve(open.id)).id, open.id);

  const revoked = await h.stepwise.apiKeys.revoke(key.id);
  assert.ok(revoked?.revokedAt);
  const other = await h.stepwise.apiKeys.create('proj_other');
  await assert.rejects(ops.beta.assistants.retrieve(open.id), AuthenticationError);
  await assert.rejects(clientWith(`${other.secret}x`).beta.assistants.list(), AuthenticationError);
  assert.equal((await clientWith(other.secret).beta.assistants.list()).data.length, 0);
  assert.deepEqual(
    (await h.stepwise.apiKeys.list()).map((k) => [k.id, k.projectId, k.revokedAt === null]),
    [
      [key.id, 'proj_default', false],
      [other.id, 'proj_other', true],
    ],
  );
  assert.ok((await h.stepwise.apiKeys.list()).every((k) => !('secret' in k) && !JSON.stringify(k).includes(key.secret)));
});

test("a key of project B gets 404 for every id of project A, on every endpoint", async () => {
  const a = clientWith((await h.stepwise.apiKeys.create('proj_a')).secret);
  const b = clientWith((await h.stepwise.apiKeys.create('proj_b')).secret);

  const assistant = await a.beta.assistants.create({ model: 'gpt-4o' });
  const thread = await a.beta.threads.create({ messages: [{ role: 'user', content: 'hello' }] });
  const message = (await a.beta.threads.messages.list(thread.id)).data[0]!;
  h.model.script({ text: 'hi' });
  const run = await a.beta.threads.runs.createAndPoll(thread.id, { assistant_id: assistant.id });
  assert.equal(run.status, 'completed');
  const step = (await a.beta.threads.runs.steps.list(run.id, { thread_id: thread.id })).data[0]!;
  const file = await a.files.create({ file: await toFile(Buffer.from('the secret recipe has saffron'), 'recipe.txt'), purpose: 'assistants' });
  const second = await a.files.create({ file: await toFile(Buffer.from('more saffron notes'), 'notes.txt'), purpose: 'assistants' });
  const store = await a.vectorStores.create({ name: 'a', file_ids: [file.id] });
  const storeFile = await a.vectorStores.files.poll(store.id, file.id);
  assert.equal(storeFile.status, 'completed');
  const batch = await a.vectorStores.fileBatches.createAndPoll(store.id, { file_ids: [second.id] });
  const upload = await a.uploads.create({ bytes: 5, filename: 'u.txt', mime_type: 'text/plain', purpose: 'assistants' });
  const part = await toFile(Buffer.from('hello'), 'p1');

  const bThread = await b.beta.threads.create();
  const bAssistant = await b.beta.assistants.create({ model: 'gpt-4o' });
  const bStore = await b.vectorStores.create({ name: 'b' });
  const threadRef = { thread_id: thread.id };
  const runRef = { thread_id: thread.id, run_id: run.id };
  const storeRef = { vector_store_id: store.id };
  const attempts: Record<string, () => Promise<unknown>> = {
    'assistants.retrieve': () => b.beta.assistants.retrieve(assistant.id),
    'assistants.update': () => b.beta.assistants.update(assistant.id, { name: 'x' }),
    'assistants.delete': () => b.beta.assistants.delete(assistant.id),
    'threads.retrieve': () => b.beta.threads.retrieve(thread.id),
    'threads.update': () => b.beta.threads.update(thread.id, { metadata: { x: '1' } }),
    'threads.delete': () => b.beta.threads.delete(thread.id),
    'messages.list': () => b.beta.threads.messages.list(thread.id),
    'messages.create': () => b.beta.threads.messages.create(thread.id, { role: 'user', content: 'x' }),
    'messages.retrieve': () => b.beta.threads.messages.retrieve(message.id, threadRef),
    'messages.update': () => b.beta.threads.messages.update(message.id, { ...threadRef, metadata: { x: '1' } }),
    'messages.delete': () => b.beta.threads.messages.delete(message.id, threadRef),
    'runs.create': () => b.beta.threads.runs.create(thread.id, { assistant_id: bAssistant.id }),
    'runs.create with their assistant': () => b.beta.threads.runs.create(bThread.id, { assistant_id: assistant.id }),
    'createAndRun with their assistant': () => b.beta.threads.createAndRun({ assistant_id: assistant.id }),
    'runs.list': () => b.beta.threads.runs.list(thread.id),
    'runs.retrieve': () => b.beta.threads.runs.retrieve(run.id, threadRef),
    'runs.update': () => b.beta.threads.runs.update(run.id, { ...threadRef, metadata: { x: '1' } }),
    'runs.cancel': () => b.beta.threads.runs.cancel(run.id, threadRef),
    'runs.submitToolOutputs': () => b.beta.threads.runs.submitToolOutputs(run.id, { ...threadRef, tool_outputs: [{ tool_call_id: 'call_1', output: 'x' }] }),
    'runs.stream': () => b.beta.threads.runs.stream(thread.id, { assistant_id: bAssistant.id }).finalRun(),
    'runs.submitToolOutputsStream': () => b.beta.threads.runs.submitToolOutputsStream(run.id, { ...threadRef, tool_outputs: [{ tool_call_id: 'call_1', output: 'x' }] }).finalRun(),
    'steps.list': () => b.beta.threads.runs.steps.list(run.id, threadRef),
    'steps.retrieve': () => b.beta.threads.runs.steps.retrieve(step.id, runRef),
    'files.retrieve': () => b.files.retrieve(file.id),
    'files.content': () => b.files.content(file.id),
    'files.delete': () => b.files.delete(file.id),
    'uploads.parts.create': () => b.uploads.parts.create(upload.id, { data: part }),
    'uploads.cancel': () => b.uploads.cancel(upload.id),
    'vectorStores.retrieve': () => b.vectorStores.retrieve(store.id),
    'vectorStores.update': () => b.vectorStores.update(store.id, { name: 'x' }),
    'vectorStores.delete': () => b.vectorStores.delete(store.id),
    'vectorStores.search': () => b.vectorStores.search(store.id, { query: 'saffron' }),
    'vectorStores.files.list': () => b.vectorStores.files.list(store.id),
    'vectorStores.files.create': () => b.vectorStores.files.create(store.id, { file_id: file.id }),
    'vectorStores.files.retrieve': () => b.vectorStores.files.retrieve(file.id, storeRef),
    'vectorStores.files.update': () => b.vectorStores.files.update(file.id, { ...storeRef, attributes: { x: '1' } }),
    'vectorStores.files.content': () => b.vectorStores.files.content(file.id, storeRef),
    'vectorStores.files.delete': () => b.vectorStores.files.delete(file.id, storeRef),
    'attach their file to my store': () => b.vectorStores.files.create(bStore.id, { file_id: file.id }),
    'fileBatches.create': () => b.vectorStores.fileBatches.create(store.id, { file_ids: [second.id] }),
    'fileBatches.create with their file': () => b.vectorStores.fileBatches.create(bStore.id, { file_ids: [second.id] }),
    'fileBatches.retrieve': () => b.vectorStores.fileBatches.retrieve(batch.id, storeRef),
    'fileBatches.listFiles': () => b.vectorStores.fileBatches.listFiles(batch.id, storeRef),
    'fileBatches.cancel': () => b.vectorStores.fileBatches.cancel(batch.id, storeRef),
  };
  for (const [name, attempt] of Object.entries(attempts)) {
    const error = await attempt().then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(error instanceof NotFoundError, `${name}: expected a 404, got ${String(error)}`);
  }

  assert.deepEqual((await b.beta.assistants.list()).data.map((x) => x.id), [bAssistant.id]);
  assert.deepEqual((await b.files.list()).data, []);
  assert.deepEqual((await b.vectorStores.list()).data.map((x) => x.id), [bStore.id]);
  assert.deepEqual((await b.vectorStores.files.list(bStore.id)).data, []);

  // Nothing of A's changed, and A still reaches all of it.
  assert.equal((await a.beta.assistants.retrieve(assistant.id)).name, null);
  assert.deepEqual((await a.beta.threads.retrieve(thread.id)).metadata, {});
  assert.deepEqual((await a.beta.threads.messages.list(thread.id)).data.map((m) => m.id).includes(message.id), true);
  assert.equal((await a.beta.threads.runs.retrieve(run.id, threadRef)).status, 'completed');
  assert.equal((await a.beta.threads.runs.steps.retrieve(step.id, runRef)).id, step.id);
  assert.equal(await (await a.files.content(file.id)).text(), 'the secret recipe has saffron');
  assert.equal((await a.vectorStores.retrieve(store.id)).file_counts.completed, 2);
  assert.equal((await a.vectorStores.search(store.id, { query: 'saffron' })).data.length, 2);
  assert.equal((await a.vectorStores.files.retrieve(file.id, storeRef)).status, 'completed');
  assert.deepEqual((await a.beta.assistants.list()).data.map((x) => x.id), [assistant.id]);
});

const execFileAsync = promisify(execFile);

/** `stepwise keys ...` as its own process, as an operator runs it beside the server. */
const keysCli = (env: Record<string, string>, ...args: string[]) => execFileAsync(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'keys', ...args], { env: { ...process.env, ...env } });

const createdKey = (output: string) => ({ secret: /sk-proj-[A-Za-z0-9]{40}/.exec(output)?.[0], keyId: /key_[0-9a-z]+/.exec(output)?.[0] });

test('the keys CLI creates, lists and revokes keys', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'stepwise-keys-'));
  const cli = (...args: string[]) => keysCli({ STEPWISE_DATA_DIR: dataDir }, ...args);
  try {
    const created = (await cli('create', '--project', 'proj_x', '--name', 'ci')).stdout;
    const { secret, keyId } = createdKey(created);
    assert.ok(secret && keyId, created);

    const listed = (await cli('list')).stdout;
    assert.match(listed, new RegExp(`${keyId}\\s+proj_x\\s+${secret.slice(0, 12)}\\.\\.\\.\\s+ci\\s.*active`));
    assert.ok(!listed.includes(secret));
    assert.equal((await cli('list', '--project', 'proj_y')).stdout.trim(), 'no API keys');

    assert.match((await cli('revoke', keyId)).stdout, new RegExp(`revoked ${keyId}`));
    assert.match((await cli('list', '--project', 'proj_x')).stdout, /revoked 20/);

    await assert.rejects(cli('create', '--project', 'not a project'), /invalid project id/);
    await assert.rejects(cli('revoke', 'key_missing'), /no API key with id key_missing/);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

// The server remembers what it looked up; these requests would pass on what it remembers if it
// missed a change the CLI committed from its own process.
test('a key the CLI creates or revokes in another process counts from the very next request', async () => {
  const server = await startHarness();
  const cli = (...args: string[]) => keysCli(server.env, ...args);
  const status = async (secret?: string) => {
    const headers: Record<string, string> = { 'OpenAI-Beta': 'assistants=v2', ...(secret && { Authorization: `Bearer ${secret}` }) };
    return (await fetch(`${server.stepwise.url}/assistants`, { headers })).status;
  };
  try {
    assert.equal(await status(), 200);
    assert.equal(await status('sk-anything'), 200);

    const first = createdKey((await cli('create', '--project', 'proj_default')).stdout);
    assert.ok(first.secret && first.keyId);
    assert.equal(await status(), 401);
    assert.equal(await status('sk-anything'), 401);
    assert.equal(await status(first.secret), 200);
    assert.equal(await status(first.secret), 200);

    const second = createdKey((await cli('create', '--project', 'proj_other')).stdout);
    assert.ok(second.secret);
    assert.equal(await status(second.secret), 200);
    await cli('revoke', first.keyId);
    assert.equal(await status(first.secret), 401);
    assert.equal(await status(second.secret), 200);
    assert.equal(await status(), 401);
  } finally {
    await server.close();
  }
});

test('a non-loopback HOST without keys refuses to start', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'stepwise-public-'));
  try {
    const config = { ...loadConfig({ STEPWISE_DATA_DIR: dataDir, PORT: '0' }), host: '0.0.0.0' };
    await assert.rejects(startStepwise({ config }), /no API keys exist.*stepwise keys create --project <id>/);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('STEPWISE_AUTH_REQUIRED asks for a key even before one exists', async () => {
  const strict = await startHarness({ env: { STEPWISE_AUTH_REQUIRED: 'true' } });
  try {
    await assert.rejects(strict.client.beta.assistants.list(), AuthenticationError);
  } finally {
    await strict.close();
  }
});
