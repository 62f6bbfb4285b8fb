import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type Kysely, sql } from 'kysely';
import pg from 'pg';
import type { Thread } from '../src/spec/wire.js';
import { migrateToLatest, openDatabase } from '../src/store/database.js';
import { Leases } from '../src/store/leases.js';
import type { Database } from '../src/store/schema.js';
import { Store } from '../src/store/store.js';
import { createThrowawayDatabase, TEST_DATABASE_URL } from './support/test-database.js';

/**
 * A migrated throwaway database behind a pool of one connection, so that the session a test reads
 * (`pg_prepared_statements`) is the one that ran the statements.
 */
async function onOneConnection(work: (db: Kysely<Database>, store: Store) => Promise<void>): Promise<void> {
  const database = await createThrowawayDatabase(TEST_DATABASE_URL!);
  const db = openDatabase({ dataDir: '', databaseUrl: database.url }, new pg.Pool({ connectionString: database.url, max: 1 }));
  try {
    await migrateToLatest(db);
    await work(db, new Store(db));
  } finally {
    await db.destroy();
    await database.drop();
  }
}

test(
  'on PostgreSQL, query shapes of few parameters and the run claim are named statements, prepared once on the connection',
  { skip: !TEST_DATABASE_URL && 'PostgreSQL only' },
  () =>
    onOneConnection(async (db, store) => {
      const thread: Thread = { id: 'thread_named', object: 'thread', created_at: 1_700_000_000, tool_resources: {}, metadata: {} };
      await store.threads.insert('proj_named', thread);
      assert.deepEqual(await store.threads.get('proj_named', thread.id), thread);
      assert.deepEqual(await store.threads.get('proj_named', thread.id), thread);
      assert.equal(await store.threads.get('proj_named', 'thread_other'), undefined);
      assert.deepEqual(await new Leases(db, 'runs', 'owner_named', 15_000).claimNext(['queued'], 4, ['data']), []);
      // A text that grows with rows a client chooses is not named: 20 threads, 80 parameters.
      const many = Array.from({ length: 20 }, (_, index) => ({ ...thread, id: `thread_named_${index}` }));
      await store.insertAll([store.threads.rows('proj_named', many)]);
      assert.equal((await store.threads.get('proj_named', 'thread_named_19'))?.id, 'thread_named_19');

      const { rows } = await sql<{ statement: string }>`SELECT statement FROM pg_prepared_statements WHERE name LIKE 'stepwise_%' ORDER BY prepare_time`.execute(db);
      const prepared = rows.map(({ statement }) => statement.split(' ').slice(0, 4).join(' '));
      assert.deepEqual(prepared, ['insert into "threads" ("id",', 'select "data" from "threads"', 'with "free" as materialized']);
    }),
);

test(
  'on PostgreSQL, a connection whose named statements the server dropped is closed after the failing query, and the next query prepares anew',
  { skip: !TEST_DATABASE_URL && 'PostgreSQL only' },
  () =>
    onOneConnection(async (db, store) => {
      assert.equal(await store.threads.get('proj_named', 'thread_none'), undefined);
      // What a transaction pooler without prepared-statement support does between transactions.
      await sql`DEALLOCATE ALL`.execute(db);
      await assert.rejects(store.threads.get('proj_named', 'thread_none'), (error: { code?: string }) => error.code === '26000');
      assert.equal(await store.threads.get('proj_named', 'thread_none'), undefined);
    }),
);
