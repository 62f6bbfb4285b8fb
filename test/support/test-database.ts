import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Kysely } from 'kysely';
import pg from 'pg';
import { ulid } from 'ulid';
import { migrateToLatest, openDatabase } from '../../src/store/database.js';
import type { Database } from '../../src/store/schema.js';

/**
 * Where the suite runs on PostgreSQL: STEPWISE_TEST_DATABASE_URL names a server (any database on
 * it); each harness gets a throwaway database there. Unset: the suite runs on SQLite.
 */
export const TEST_DATABASE_URL = process.env.STEPWISE_TEST_DATABASE_URL || undefined;

export interface ThrowawayDatabase {
  url: string;
  drop(): Promise<void>;
}

async function onServer<T>(serverUrl: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

export async function createThrowawayDatabase(serverUrl: string): Promise<ThrowawayDatabase> {
  const name = `stepwise_test_${ulid().toLowerCase()}`;
  await onServer(serverUrl, (client) => client.query(`CREATE DATABASE ${name}`));
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: () =>
      onServer(serverUrl, async (client) => {
        await sessionsGone(client, name);
        await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      }),
  };
}

const SESSIONS_GONE_MS = 60_000;

/**
 * Waits for the database's sessions to end. A closed pg pool resolves `end()` while its
 * connections are still saying goodbye; dropping WITH (FORCE) then kills them, and their clients
 * throw "terminating connection due to administrator command" into the next test (on a loaded
 * machine, often). A session still there after the bound is dropped with the database all the same.
 */
async function sessionsGone(client: pg.Client, database: string): Promise<void> {
  const deadline = Date.now() + SESSIONS_GONE_MS;
  while (Date.now() < deadline) {
    const { rows } = await client.query<{ busy: boolean }>('SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE datname = $1) AS busy', [database]);
    if (!rows[0]?.busy) return;
    await sleep(20);
  }
}

export interface TestDatabase {
  db: Kysely<Database>;
  /** The data directory, which holds the SQLite file. */
  dataDir: string;
  close(): Promise<void>;
}

/**
 * A migrated Stepwise database of its own for a test that works on the store directly: a
 * throwaway PostgreSQL database when the suite runs on PostgreSQL (unless `sqlite`), else a SQLite
 * file in a fresh directory. `close` removes it.
 */
export async function openTestDatabase({ sqlite = false } = {}): Promise<TestDatabase> {
  const dataDir = mkdtempSync(join(tmpdir(), 'stepwise-db-'));
  const database = TEST_DATABASE_URL && !sqlite ? await createThrowawayDatabase(TEST_DATABASE_URL) : undefined;
  const db = openDatabase({ dataDir, databaseUrl: database?.url });
  await migrateToLatest(db);
  return {
    db,
    dataDir,
    async close() {
      await db.destroy();
      await database?.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
