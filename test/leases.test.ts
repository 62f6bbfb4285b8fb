import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Kysely } from 'kysely';
import type { Message, Run, Thread } from '../src/spec/wire.js';
import { Leases } from '../src/store/leases.js';
import type { Database } from '../src/store/schema.js';
import { RUN_FOR_EXECUTION_COLUMNS, type RunForExecutionRow, Store } from '../src/store/store.js';
import { openTestDatabase, type TestDatabase } from './support/test-database.js';

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
  return {
    id,
    object: 'thread.message',
    created_at: 1_700_000_000,
    thread_id: threadId,
    status: 'completed',
    incomplete_details: null,
    completed_at: 1_700_000_000,
    incomplete_at: null,
    role: 'user',
    content: [{ type: 'text', text: { value: 'Hi', annotations: [] } }],
    assistant_id: null,
    run_id: null,
    attachments: [],
    metadata: {},
  };
}

/** Leases on runs and the store's writes that end them, on the database the suite runs on. */
describe('run leases and multi-table inserts', () => {
  let database: TestDatabase;
  let db: Kysely<Database>;
  let store: Store;

  before(async () => {
    database = await openTestDatabase();
    db = database.db;
    store = new Store(db);
  });

  after(() => database.close());

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
});
