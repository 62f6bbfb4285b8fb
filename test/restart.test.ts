import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import OpenAI from 'openai';
import { eventually } from './support/harness.js';
import { ScriptedModel } from './support/scripted-model.js';
import { createThrowawayDatabase, TEST_DATABASE_URL, type ThrowawayDatabase } from './support/test-database.js';

async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  return port;
}

let model: ScriptedModel;
let dataDir: string;
let port: number;
let server: ChildProcess | undefined;
let database: ThrowawayDatabase | undefined;

/** `stepwise serve` as its own process, the way an operator runs it. */
async function serve(): Promise<OpenAI> {
  server = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'serve'], {
    env: {
      ...process.env,
      PORT: String(port),
      STEPWISE_DATA_DIR: dataDir,
      ...(database && { DATABASE_URL: database.url, STEPWISE_RUN_LEASE_MS: '2000' }),
      OPENAI_BASE_URL: model.url,
      OPENAI_API_KEY: 'k',
      STEPWISE_LOG: 'off',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const [line] = (await once(server.stdout!, 'data')) as [Buffer];
  assert.match(line.toString(), /serving the Assistants API/);
  return new OpenAI({ baseURL: `http://127.0.0.1:${port}/v1`, apiKey: 'k', maxRetries: 0 });
}

before(async () => {
  model = await ScriptedModel.start();
  dataDir = mkdtempSync(join(tmpdir(), 'stepwise-restart-'));
  port = await freePort();
  if (TEST_DATABASE_URL) database = await createThrowawayDatabase(TEST_DATABASE_URL);
});

after(async () => {
  server?.kill('SIGKILL');
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

  server!.kill('SIGKILL');
  await once(server!, 'exit');
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
