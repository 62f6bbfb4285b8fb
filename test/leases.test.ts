import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type Kysely, sql } from 'kysely';
import type { Message, Run, Thread } from '../src/spec/wire.js';
import { messageFromRequest } from '../src/services/messages.js';
import { Leases } from '../src/store/leases.js';
import type { Database } from '../src/store/schema.js';
import { EXECUTING_RUN_STATUSES, RUN_FOR_EXECUTION_COLUMNS, type RunForExecutionRow, Store } from '../src/store/store.js';
import { eventually } from './support/harness.js';
import { openTestDatabase, TEST_DATABASE_URL, type TestDatabase } from './support/test-database.js';

const PROJECT = 'proj_leases';

function newRun(id: string, threadId: string): Run {
  return {
    id,
    object: 'thread.run',
    created_at: 1_700_000_000,
    thread_id: threadId,
    assistant_id: 'asst_1',
    status: 'queued',
    required_action: null,
    last_error: null,
    expires_at: 1_700_000_600,
    started_at: null,
    cancelled_at: null,
    failed_at: null,
    completed_at: null,
    incomplete_details: null,
    model: 'gpt-4o',
    instructions: '',
    tools: [],
    metadata: {},
    usage: null,
    temperature: 1,
    top_p: 1,
    max_prompt_tokens: null,
    max_completion_tokens: null,
    truncation_strategy: { type: 'auto', last_messages: null },
    tool_choice: 'auto',
    parallel_tool_calls: true,
    response_format: 'auto',
  };
}

function newThread(id: string): Thread {
  return { id, object: 'thread', created_at: 1_700_000_000, tool_resources: {}, metadata: {} };
}

function newMessage(id: string, threadId: string): Message {
  return { ...messageFromRequest(threadId, { role: 'user', content: 'Hi' }, 1_700_000_000), id };
}

/** Leases on runs, the store's writes that end them, and its multi-table writes, on the database the suite runs on. */
describe('run leases and multi-table writes', () => {
  let database: TestDatabase;
  let db: Kysely<Database>;
  let store: Store;

  before(async () => {
    database = await openTestDatabase();
    db = database.db;
    store = new Store(db);
  });

  after(() => database.close());

  const claimedIds = (rows: (RunForExecutionRow & { lease_takeovers: number })[]) => rows.map((row) => [JSON.parse(row.data).id, row.lease_takeovers]);

  // First, while no other test's runs are in the table to be claimed too.
  test('on PostgreSQL, a claim of the next runs takes the oldest no live lease holds, up to its limit; a lapsed lease is taken over, a held run and a locked one are not', { skip: !TEST_DATABASE_URL && 'PostgreSQL only: the embedded runtime queues runs in its process' }, async () => {
    const run = (n: number, status: Run['status'] = 'queued') => ({ ...newRun(`run_next_${n}`, 'thread_next'), status });
    for (const stored of [run(1), run(2), run(3), run(4, 'in_progress'), run(5, 'requires_action'), run(6, 'completed'), run(7)]) await store.runs.insert(PROJECT, stored);
    // Held by the process that created it, while its attachments are added.
    await db.updateTable('runs').set(new Leases(db, 'runs', 'api', 60_000).holding()).where('id', '=', 'run_next_3').execute();
    // Its worker died.
    await db.updateTable('runs').set({ lease_owner: 'dead', lease_expires_at: 1 }).where('id', '=', 'run_next_4').execute();
    const workerA = new Leases(db, 'runs', 'worker-a', 60_000);
    const workerB = new Leases(db, 'runs', 'worker-b', 60_000);

    assert.deepEqual(claimedIds(await workerA.claimNext(EXECUTING_RUN_STATUSES, 2, RUN_FOR_EXECUTION_COLUMNS)), [['run_next_1', 0], ['run_next_2', 0]]);
    // A row another claim (or any writer) has locked is skipped at once rather than waited for.
    await db.transaction().execute(async (trx) => {
      await trx.selectFrom('runs').select('id').where('id', '=', 'run_next_7').forUpdate().execute();
      assert.deepEqual(claimedIds(await workerB.claimNext(EXECUTING_RUN_STATUSES, 10, RUN_FOR_EXECUTION_COLUMNS)), [['run_next_4', 1]]);
    });
    assert.deepEqual(claimedIds(await workerB.claimNext(EXECUTING_RUN_STATUSES, 10, RUN_FOR_EXECUTION_COLUMNS)), [['run_next_7', 0]]);
    assert.deepEqual(await workerB.claimNext(EXECUTING_RUN_STATUSES, 10, RUN_FOR_EXECUTION_COLUMNS), []);

    await db.updateTable('runs').set({ lease_owner: null, lease_expires_at: null }).where('id', '=', 'run_next_3').execute();
    assert.deepEqual(claimedIds(await workerA.claimNext(EXECUTING_RUN_STATUSES, 10, RUN_FOR_EXECUTION_COLUMNS)), [['run_next_3', 0]]);
    assert.deepEqual(
      await db.selectFrom('runs').select(['id', 'lease_owner']).where('id', 'like', 'run_next_%').orderBy('id').execute(),
      [
        { id: 'run_next_1', lease_owner: 'worker-a' },
        { id: 'run_next_2', lease_owner: 'worker-a' },
        { id: 'run_next_3', lease_owner: 'worker-a' },
        { id: 'run_next_4', lease_owner: 'worker-b' },
        { id: 'run_next_5', lease_owner: null },
        { id: 'run_next_6', lease_owner: null },
        { id: 'run_next_7', lease_owner: 'worker-b' },
      ],
    );
  });

  test("on PostgreSQL, ending a process's hold on a new run frees only that run, not the process's own claim of another", { skip: !TEST_DATABASE_URL && 'PostgreSQL only: the embedded runtime queues runs in its process' }, async () => {
    // An API and a worker in one process (`--role all`) share the lease owner.
    const apiAndWorker = new Leases(db, 'runs', 'proc-1', 60_000);
    await store.runs.insert(PROJECT, newRun('run_hold_1', 'thread_hold'));
    await store.runs.insert(PROJECT, newRun('run_hold_2', 'thread_hold'));
    await db.updateTable('runs').set(apiAndWorker.holding()).where('id', '=', 'run_hold_1').execute();
    assert.deepEqual(claimedIds(await apiAndWorker.claimNext(EXECUTING_RUN_STATUSES, 10, RUN_FOR_EXECUTION_COLUMNS)), [['run_hold_2', 0]]);
    for (const id of ['run_hold_1', 'run_hold_2']) await apiAndWorker.endingHold({ project_id: PROJECT, id }).execute();
    assert.deepEqual(
      await db.selectFrom('runs').select(['id', 'lease_owner']).where('id', 'like', 'run_hold_%').orderBy('id').execute(),
      [
        { id: 'run_hold_1', lease_owner: null },
        { id: 'run_hold_2', lease_owner: 'proc-1' },
      ],
    );
  });

  const leaseOwner = async (runId: string) => (await db.selectFrom('runs').select('lease_owner').where('id', '=', runId).executeTakeFirstOrThrow()).lease_owner;

  test('a claim reads the run it leases; the write that settles the run ends the lease, other writes keep it', async () => {
    const run = newRun('run_lease_1', 'thread_lease_1');
    await store.runs.insert(PROJECT, run);
    const row = { project_id: PROJECT, id: run.id };
    const workerA = new Leases(db, 'runs', 'worker-a', 60_000);
    const claimed = await workerA.claim<RunForExecutionRow>(row, RUN_FOR_EXECUTION_COLUMNS);
    assert.deepEqual(claimed && { takeovers: claimed.lease_takeovers, run: JSON.parse(claimed.data), pendingText: claimed.pending_text }, { takeovers: 0, run, pendingText: null });

    const executing = { ...run, status: 'in_progress' as const, started_at: 1_700_000_001 };
    await store.runs.update(PROJECT, executing);
    assert.equal(await leaseOwner(run.id), 'worker-a');

    const paused = { ...executing, status: 'requires_action' as const };
    assert.ok(await store.runs.replace(PROJECT, executing, paused));
    assert.equal(await leaseOwner(run.id), null);

    // Once the tool outputs are in, the next worker's claim is no takeover.
    const resumed = { ...paused, status: 'queued' as const };
    await store.runs.update(PROJECT, resumed);
    const workerB = new Leases(db, 'runs', 'worker-b', 60_000);
    assert.equal((await workerB.claim(row))?.lease_takeovers, 0);
    await store.runs.modify(PROJECT, run.id, (stored) => ({ ...stored, status: 'completed', completed_at: 1_700_000_002 }));
    assert.equal(await leaseOwner(run.id), null);
  });

  test('insertAll writes rows of several tables together, or none of them', async () => {
    const thread = newThread('thread_insert_1');
    const message = newMessage('msg_insert_1', thread.id);
    const run = newRun('run_insert_1', thread.id);
    await store.insertAll([store.threads.rows(PROJECT, [thread]), store.messages.rows(PROJECT, [message]), store.runs.rows(PROJECT, [run])]);
    assert.deepEqual(await store.threads.get(PROJECT, thread.id), thread);
    assert.deepEqual(await store.messages.all(PROJECT, { thread_id: thread.id }), [message]);
    assert.deepEqual(await store.runs.get(PROJECT, run.id), run);

    // The run's id is taken: the new thread and message must not be stored either.
    const other = newThread('thread_insert_2');
    await assert.rejects(
      store.insertAll([store.threads.rows(PROJECT, [other]), store.messages.rows(PROJECT, [newMessage('msg_insert_2', other.id)]), store.runs.rows(PROJECT, [run])]),
    );
    assert.equal(await store.threads.get(PROJECT, other.id), undefined);
    assert.deepEqual(await store.messages.all(PROJECT, { thread_id: other.id }), []);
  });

  /** A message, its run and the replacements that close both, stored as `replaceAll` expects them. */
  async function closing(suffix: string) {
    const thread = newThread(`thread_replace_${suffix}`);
    const message = { ...newMessage(`msg_replace_${suffix}`, thread.id), status: 'in_progress' as const, completed_at: null };
    const run = { ...newRun(`run_replace_${suffix}`, thread.id), status: 'in_progress' as const };
    await store.insertAll([store.threads.rows(PROJECT, [thread]), store.messages.rows(PROJECT, [message]), store.runs.rows(PROJECT, [run])]);
    const closedMessage = { ...message, status: 'completed' as const, completed_at: 1_700_000_005 };
    const closedRun = { ...run, status: 'completed' as const, completed_at: 1_700_000_005, expires_at: null };
    return { message, run, closedMessage, closedRun, replacements: [store.messages.replacement(PROJECT, message, closedMessage), store.runs.replacement(PROJECT, run, closedRun)] };
  }

  test('replaceAll writes every object while each is still the one expected, and none when one is not', async () => {
    const done = await closing('1');
    assert.equal(await store.replaceAll(done.replacements), true);
    assert.deepEqual(await store.messages.get(PROJECT, done.message.id), done.closedMessage);
    assert.deepEqual(await store.runs.get(PROJECT, done.run.id), done.closedRun);

    const raced = await closing('2');
    const cancelling = { ...raced.run, status: 'cancelling' as const };
    await store.runs.update(PROJECT, cancelling);
    assert.equal(await store.replaceAll(raced.replacements), false);
    assert.deepEqual(await store.messages.get(PROJECT, raced.message.id), raced.message);
    assert.deepEqual(await store.runs.get(PROJECT, raced.run.id), cancelling);
  });

  /**
   * Starts `replaceAll` while another transaction holds the run changed and uncommitted, waits until
   * the statement waits for that row, then lets the other transaction commit.
   */
  async function replaceAllBehind(change: (trx: Kysely<Database>, runId: string) => Promise<unknown>) {
    const state = await closing(`behind_${Math.random().toString(36).slice(2)}`);
    let commit!: () => void;
    const committed = new Promise<void>((resolve) => (commit = resolve));
    let changed!: () => void;
    const holding = new Promise<void>((resolve) => (changed = resolve));
    const other = db.transaction().execute(async (trx) => {
      await change(trx, state.run.id);
      changed();
      await committed;
    });
    await holding;
    const replaced = store.replaceAll(state.replacements);
    await eventually(async () => {
      const { rows } = await sql<{ waiting: boolean }>`SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock') AS waiting`.execute(db);
      return rows[0]!.waiting || undefined;
    });
    commit();
    await other;
    return { ...state, replaced: await replaced };
  }

  test('on PostgreSQL, replaceAll that waits for a row another transaction changes writes nothing once that change commits', { skip: !TEST_DATABASE_URL && 'PostgreSQL only: SQLite runs one transaction at a time' }, async () => {
    let cancelling: Run | undefined;
    const raced = await replaceAllBehind(async (trx, runId) => {
      const run = (await new Store(trx).runs.getForUpdate(PROJECT, runId))!;
      cancelling = { ...run, status: 'cancelling' };
      await new Store(trx).runs.update(PROJECT, cancelling);
    });
    assert.equal(raced.replaced, false);
    assert.deepEqual(await store.messages.get(PROJECT, raced.message.id), raced.message);
    assert.deepEqual(await store.runs.get(PROJECT, raced.run.id), cancelling);

    // A change that leaves the object as expected (a lease renewed) does not stop the writes.
    const renewed = await replaceAllBehind((trx, runId) => trx.updateTable('runs').set({ lease_expires_at: 1_700_000_100 }).where('id', '=', runId).execute());
    assert.equal(renewed.replaced, true);
    assert.deepEqual(await store.messages.get(PROJECT, renewed.message.id), renewed.closedMessage);
    assert.deepEqual(await store.runs.get(PROJECT, renewed.run.id), renewed.closedRun);
  });
});

