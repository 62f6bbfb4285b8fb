import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import OpenAI from 'openai';
import pg from 'pg';
import { PgChannels } from '../src/cluster/pg-channel.js';
import { openDatabase } from '../src/store/database.js';
import { Leases } from '../src/store/leases.js';
import { EXECUTING_RUN_STATUSES, startedByClaim, startingUnstartedRuns } from '../src/store/store.js';
import { eventually } from './support/harness.js';
import { type StepwiseProcess, spawnStepwise } from './support/processes.js';
import { ScriptedModel } from './support/scripted-model.js';
import { createThrowawayDatabase, TEST_DATABASE_URL, type ThrowawayDatabase } from './support/test-database.js';

const POLL = { pollIntervalMs: 50 };
const TAKEOVER_TIMEOUT_MS = 60_000;

/** Two API processes and two workers over one PostgreSQL database, as a scaled-out deployment runs. */
describe('scale-out on PostgreSQL', { skip: !TEST_DATABASE_URL && 'needs STEPWISE_TEST_DATABASE_URL' }, () => {
  let model: ScriptedModel;
  let database: ThrowawayDatabase;
  let sql: pg.Client;
  let dataDir: string;
  let env: Record<string, string>;
  let apiA: StepwiseProcess;
  let apiB: StepwiseProcess;
  const workers = new Map<number, StepwiseProcess>();
  let a: OpenAI;
  let b: OpenAI;

  async function startWorker(): Promise<void> {
    const worker = await spawnStepwise(env, 'worker');
    workers.set(worker.child.pid!, worker);
  }

  before(async () => {
    model = await ScriptedModel.start();
    database = await createThrowawayDatabase(TEST_DATABASE_URL!);
    sql = new pg.Client({ connectionString: database.url });
    await sql.connect();
    dataDir = mkdtempSync(join(tmpdir(), 'stepwise-cluster-'));
    env = {
      DATABASE_URL: database.url,
      STEPWISE_DATA_DIR: dataDir,
      OPENAI_BASE_URL: model.url,
      OPENAI_API_KEY: 'k',
      STEPWISE_RUN_LEASE_MS: '2000',
      STEPWISE_EMBEDDING_MODEL: 'text-embedding-3-small',
    };
    // The first process creates the schema; the others start on it together.
    apiA = await spawnStepwise(env, 'api');
    [apiB] = await Promise.all([spawnStepwise(env, 'api'), startWorker(), startWorker()]);
    a = new OpenAI({ baseURL: apiA.url, apiKey: 'k', maxRetries: 0 });
    b = new OpenAI({ baseURL: apiB.url, apiKey: 'k', maxRetries: 0 });
  });

  after(async () => {
    await Promise.all([apiA, apiB, ...workers.values()].map((process) => process?.kill()));
    await sql?.end();
    await model?.close();
    await database?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  async function setup(client: OpenAI, content = 'Hello') {
    const assistant = await client.beta.assistants.create({ model: 'gpt-4o', instructions: 'Answer.' });
    const thread = await client.beta.threads.create({ messages: [{ role: 'user', content }] });
    return { assistant, thread };
  }

  /**
   * Two processes' channels on the test database. `sendAll` sends messages in one turn and waits
   * until they all arrived, in order; it resolves to how many NOTIFYs carried them.
   */
  async function onChannels(work: (sendAll: (messages: unknown[]) => Promise<number>) => Promise<void>): Promise<void> {
    const log = (message: string, error?: unknown) => assert.fail(`${message}: ${String(error)}`);
    const [sender, receiver] = await Promise.all([PgChannels.connect(database.url, log), PgChannels.connect(database.url, log)]);
    try {
      const received: unknown[] = [];
      await receiver.listen('test_channel', (message) => received.push(message));
      let notifies = 0;
      const query = sender.sender.query.bind(sender.sender) as (...args: unknown[]) => Promise<unknown>;
      sender.sender.query = ((...args: unknown[]) => {
        notifies++;
        return query(...args);
      }) as typeof sender.sender.query;
      await work(async (messages) => {
        notifies = 0;
        received.length = 0;
        await Promise.all(messages.map((message) => sender.send('test_channel', message)));
        await eventually(async () => (received.length === messages.length ? true : undefined));
        assert.deepEqual(received, messages);
        return notifies;
      });
    } finally {
      await Promise.all([sender.close(), receiver.close()]);
    }
  }

  test('LISTEN/NOTIFY messages arrive whole and in order, past the size limit of one NOTIFY', () =>
    onChannels(async (sendAll) => {
      // Emoji are two UTF-16 units each: some pieces would end between the two.
      await sendAll(Array.from({ length: 50 }, (_, index) => ({ index, text: (index % 2 === 0 ? '😀' : 'é').repeat(index % 5 === 0 ? 30_000 : index) })));
    }));

  test('LISTEN/NOTIFY fills each NOTIFY up to its size limit in bytes', () =>
    onChannels(async (sendAll) => {
      // 20 messages of about 360 bytes, sent in one turn: 7.3 KB in all.
      assert.equal(await sendAll(Array.from({ length: 20 }, (_, index) => ({ index, text: 'a'.repeat(340) }))), 1, 'one NOTIFY for the batch');
      assert.equal(await sendAll([{ text: 'a'.repeat(20_000) }]), 3, '20 KB in three pieces');
      assert.equal(await sendAll([{ text: 'é'.repeat(3_500) }]), 1, '7,000 bytes of two-byte characters in one NOTIFY');
      assert.equal(await sendAll([{ text: '😀'.repeat(2_500) }]), 2, '10,000 bytes of four-byte characters in two pieces');
    }));

  test('a run streamed from API B, on objects made through API A, arrives in order from a worker', async () => {
    const { assistant, thread } = await setup(a);
    model.script({ text: ['Hel', 'lo ', 'world'], chunkDelayMs: 20 });
    const stream = b.beta.threads.runs.stream(thread.id, { assistant_id: assistant.id });
    const events: string[] = [];
    let text = '';
    for await (const event of stream) {
      events.push(event.event);
      if (event.event === 'thread.message.delta') for (const part of event.data.delta.content ?? []) if (part.type === 'text') text += part.text?.value ?? '';
    }
    assert.equal(text, 'Hello world');
    assert.deepEqual(events.slice(0, 3), ['thread.run.created', 'thread.run.queued', 'thread.run.in_progress']);
    assert.equal(events.at(-1), 'thread.run.completed');
    assert.equal(events.filter((event) => event === 'thread.message.delta').length, 3);
    for (const once of ['thread.run.step.created', 'thread.message.created', 'thread.message.completed', 'thread.run.step.completed']) {
      assert.equal(events.filter((event) => event === once).length, 1, once);
    }
    const run = await stream.finalRun();
    assert.equal((await a.beta.threads.runs.retrieve(run.id, { thread_id: thread.id })).status, 'completed');
  });

  test('tool outputs submitted and streamed through API B continue a run created through API A', async () => {
    const { thread } = await setup(a, 'Weather?');
    const assistant = await a.beta.assistants.create({
      model: 'gpt-4o',
      tools: [{ type: 'function', function: { name: 'weather', parameters: { type: 'object', properties: {} } } }],
    });
    model.script({ toolCalls: [{ name: 'weather', arguments: '{}' }] }, { text: 'Sunny.' });
    const paused = await a.beta.threads.runs.createAndPoll(thread.id, { assistant_id: assistant.id }, POLL);
    assert.equal(paused.status, 'requires_action');
    const callId = paused.required_action!.submit_tool_outputs.tool_calls[0]!.id;
    const stream = b.beta.threads.runs.submitToolOutputsStream(paused.id, { thread_id: thread.id, tool_outputs: [{ tool_call_id: callId, output: 'sunny' }] });
    const events: string[] = [];
    for await (const event of stream) events.push(event.event);
    assert.equal(events.at(-1), 'thread.run.completed');
    const [message] = await stream.finalMessages();
    assert.equal(message?.content[0]?.type === 'text' && message.content[0].text.value, 'Sunny.');
  });

  test('a cancel through API B stops the model call on the worker that executes the run', async () => {
    const { assistant, thread } = await setup(a);
    model.script({ hang: true });
    const calls = model.requests.length;
    const run = await a.beta.threads.runs.create(thread.id, { assistant_id: assistant.id });
    await eventually(async () => (model.requests.length > calls ? true : undefined));
    // API B cannot end a run a live worker executes; only that worker, told to stop, ends it.
    assert.equal((await b.beta.threads.runs.cancel(run.id, { thread_id: thread.id })).status, 'cancelling');
    const cancelled = await a.beta.threads.runs.poll(run.id, { thread_id: thread.id }, POLL);
    assert.equal(cancelled.status, 'cancelled');
    assert.equal(typeof cancelled.cancelled_at, 'number');
  });

  /** Waits until a worker holds the lease on the row and `working` says it is midway, then kills that worker with SIGKILL. */
  async function killLeaseOwner(table: 'runs' | 'vector_store_files', id: string, working: () => Promise<boolean>): Promise<void> {
    const owner = await eventually(async () => {
      const { rows } = await sql.query<{ lease_owner: string | null }>(`SELECT lease_owner FROM ${table} WHERE id = $1`, [id]);
      return rows[0]?.lease_owner && (await working()) ? rows[0].lease_owner : undefined;
    }, 20_000);
    const pid = Number(owner.split('/')[1]);
    const victim = workers.get(pid);
    assert.ok(victim, `the lease owner ${owner} is one of the workers`);
    await victim.kill();
    workers.delete(pid);
  }

  // The SDK's poll helpers wait forever; a job nobody takes over fails the test instead.
  test('a worker killed with SIGKILL mid-run: another worker takes the run over and completes it, once', { timeout: TAKEOVER_TIMEOUT_MS }, async () => {
    const { assistant, thread } = await setup(a, 'Tell me a story');
    model.script({ text: ['Once ', 'upon'], chunkDelayMs: 60_000 }, { text: 'Taken over.' });
    const run = await a.beta.threads.runs.create(thread.id, { assistant_id: assistant.id });
    await killLeaseOwner('runs', run.id, async () => (await a.beta.threads.runs.steps.list(run.id, { thread_id: thread.id })).data.length > 0);

    const done = await b.beta.threads.runs.poll(run.id, { thread_id: thread.id }, POLL);
    assert.equal(done.status, 'completed');
    const steps = await b.beta.threads.runs.steps.list(run.id, { thread_id: thread.id });
    assert.deepEqual(steps.data.map((step) => step.status), ['completed']);
    const messages = await b.beta.threads.messages.list(thread.id, { order: 'asc' });
    const texts = messages.data.map((message) => (message.content[0]?.type === 'text' ? message.content[0].text.value : ''));
    assert.deepEqual(texts, ['Tell me a story', 'Taken over.']);
    const { rows } = await sql.query<{ lease_takeovers: number; lease_owner: string | null }>('SELECT lease_takeovers, lease_owner FROM runs WHERE id = $1', [run.id]);
    assert.deepEqual(rows[0], { lease_takeovers: 1, lease_owner: null });
    await startWorker();
  });

  test('a worker killed with SIGKILL while indexing a file: another worker takes the file over and indexes it, once', { timeout: TAKEOVER_TIMEOUT_MS }, async () => {
    model.holdEmbeddings();
    const file = await a.files.create({ file: new File(['The lighthouse keeper logs every passing ship.'], 'log.txt'), purpose: 'assistants' });
    const store = await a.vectorStores.create({ file_ids: [file.id] });
    await killLeaseOwner('vector_store_files', file.id, async () => model.embeddingRequests.length > 0);
    model.releaseEmbeddings();

    const indexed = await b.vectorStores.files.poll(store.id, file.id, POLL);
    assert.equal(indexed.status, 'completed');
    assert.equal((await b.vectorStores.retrieve(store.id)).status, 'completed');
    const { rows } = await sql.query<{ lease_takeovers: number; lease_owner: string | null; chunks: number }>(
      'SELECT lease_takeovers, lease_owner, (SELECT count(*)::int FROM chunks WHERE file_id = $1) AS chunks FROM vector_store_files WHERE id = $1',
      [file.id],
    );
    assert.deepEqual(rows[0], { lease_takeovers: 1, lease_owner: null, chunks: 1 });
    const [hit] = (await b.vectorStores.search(store.id, { query: 'lighthouse keeper' })).data;
    assert.equal(hit?.file_id, file.id);
    await startWorker();
  });

  test("a worker's claim starts a queued run no one executed, storing it as its executor would; a run stored otherwise is left queued", async () => {
    const other = await createThrowawayDatabase(TEST_DATABASE_URL!);
    const api = await spawnStepwise({ ...env, DATABASE_URL: other.url }, 'api');
    const db = openDatabase({ dataDir: '', databaseUrl: other.url });
    try {
      const client = new OpenAI({ baseURL: api.url, apiKey: 'k', maxRetries: 0 });
      const assistant = await client.beta.assistants.create({ model: 'gpt-4o', instructions: 'Answer.' });
      const newRun = async (metadata: Record<string, string> = {}) => {
        const thread = await client.beta.threads.create({ messages: [{ role: 'user', content: 'Hi' }] });
        return client.beta.threads.runs.create(thread.id, { assistant_id: assistant.id, metadata });
      };
      // Metadata that looks like the part of the JSON the claim rewrites.
      const unstarted = await newRun({ forged: '{"status":"queued","required_action":null,"last_error":null,"started_at":null,' });
      // Queued again after its tool outputs came in: it started before. A function's parameters
      // (any JSON) hold what an unstarted run's JSON would.
      const resumed = await newRun();
      const forged = { x: '', status: 'queued', required_action: null, last_error: null, expires_at: resumed.expires_at, started_at: null, y: '' };
      const resumedData = JSON.stringify({ ...resumed, started_at: 1_700_000_000, tools: [{ type: 'function', function: { name: 'f', parameters: forged } }] });
      await db.updateTable('runs').set({ data: resumedData }).where('id', '=', resumed.id).execute();
      // Its creator's hold lapsed: it may have died midway.
      const held = await newRun();
      await db.updateTable('runs').set({ lease_owner: 'hold:gone', lease_expires_at: 1 }).where('id', '=', held.id).execute();
      const heldData = (await db.selectFrom('runs').select('data').where('id', '=', held.id).executeTakeFirstOrThrow()).data;
      // Keys in another order than the server writes them, with what a client sent first.
      const reordered = await newRun();
      const { id, tools, ...rest } = reordered;
      const padded = { ...forged, x: 'x'.repeat(300), expires_at: reordered.expires_at };
      const reorderedData = JSON.stringify({ tools: [...tools, { type: 'function', function: { name: 'f', parameters: padded } }], ...rest, id });
      await db.updateTable('runs').set({ data: reorderedData }).where('id', '=', id).execute();
      // In progress with no lease, as a run its process left behind before leases existed.
      const leftover = await newRun();
      const leftoverData = JSON.stringify({ ...leftover, status: 'in_progress', started_at: 1_700_000_000 });
      await db.updateTable('runs').set({ data: leftoverData, status: 'in_progress' }).where('id', '=', leftover.id).execute();

      const claimed = await new Leases(db, 'runs', 'worker_test', 60_000).claimNext<{ data: string; status: string }>(EXECUTING_RUN_STATUSES, 10, ['data', 'status'], startingUnstartedRuns(1_800_000_000));
      const byId = new Map(claimed.map((row) => [(JSON.parse(row.data) as { id: string }).id, row]));
      const started = byId.get(unstarted.id)!;
      assert.equal(started.status, 'in_progress');
      assert.deepEqual(JSON.parse(started.data), { ...unstarted, status: 'in_progress', started_at: 1_800_000_000 });
      assert.equal(started.data, JSON.stringify(JSON.parse(started.data)), 'the text the executor expects when it writes the run next');
      assert.deepEqual(byId.get(resumed.id), { data: resumedData, status: 'queued', lease_takeovers: 0 });
      assert.deepEqual(byId.get(held.id), { data: heldData, status: 'queued', lease_takeovers: 1 });
      assert.deepEqual(byId.get(reordered.id), { data: reorderedData, status: 'queued', lease_takeovers: 0 });
      assert.deepEqual(byId.get(leftover.id), { data: leftoverData, status: 'in_progress', lease_takeovers: 0 });
      const startedIds = claimed.filter((row) => startedByClaim(JSON.parse(row.data), 1_800_000_000)).map((row) => (JSON.parse(row.data) as { id: string }).id);
      assert.deepEqual(startedIds, [unstarted.id], 'the worker starts only the run its claim started, and takes the leftover over');
    } finally {
      await db.destroy();
      await api.kill();
      await other.drop();
    }
  });

  test('200 concurrent runs through both APIs: none lost, duplicated or stuck', async () => {
    const assistant = await a.beta.assistants.create({ model: 'gpt-4o' });
    const requestsBefore = model.requests.length;
    model.script(...Array.from({ length: 200 }, (_, index) => ({ text: `answer ${index}` })));
    const runs = await Promise.all(
      Array.from({ length: 200 }, (_, index) =>
        (index % 2 ? a : b).beta.threads.createAndRun({ assistant_id: assistant.id, thread: { messages: [{ role: 'user', content: `question ${index}` }] } }),
      ),
    );
    const settled = await Promise.all(runs.map((run, index) => (index % 2 ? b : a).beta.threads.runs.poll(run.id, { thread_id: run.thread_id }, { pollIntervalMs: 200 })));
    assert.deepEqual(new Set(settled.map((run) => run.status)), new Set(['completed']));
    assert.equal(model.requests.length - requestsBefore, 200, 'one model call per run');
    const { rows } = await sql.query<{ steps: number; messages: number }>(
      `SELECT (SELECT count(*) FROM run_steps WHERE run_id = ANY($1)) AS steps,
              (SELECT count(*) FROM messages WHERE run_id = ANY($1)) AS messages`,
      [runs.map((run) => run.id)],
    );
    assert.deepEqual(rows[0], { steps: 200, messages: 200 });
  });
});
