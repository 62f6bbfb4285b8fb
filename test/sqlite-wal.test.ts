import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import SQLite from 'better-sqlite3';
import { type Kysely, sql } from 'kysely';
import { migrateToLatest, openDatabase } from '../src/store/database.js';
import type { Database } from '../src/store/schema.js';
import { eventually } from './support/harness.js';
import { openTestDatabase } from './support/test-database.js';

/** The WAL index's frame counts (the -shm file): frames in the WAL, and how many of them are copied back. */
function walIndex(dir: string): { frames: number; copied: number } {
  const header = readFileSync(join(dir, 'stepwise.db-shm'));
  return { frames: header.readUInt32LE(16), copied: header.readUInt32LE(96) };
}

async function withDatabase(work: (db: Kysely<Database>, dir: string) => Promise<void>): Promise<void> {
  const { db, dataDir, close } = await openTestDatabase({ sqlite: true });
  try {
    await work(db, dataDir);
  } finally {
    await close();
  }
}

const pageSize = async (db: Kysely<Database>) => (await sql<{ page_size: number }>`PRAGMA page_size`.execute(db)).rows[0]!.page_size;

test('a new database has 2 KB pages; a database made with 4 KB pages keeps them', async () => {
  await withDatabase(async (db) => assert.equal(await pageSize(db), 2048));
  const dataDir = mkdtempSync(join(tmpdir(), 'stepwise-db-'));
  try {
    const older = new SQLite(join(dataDir, 'stepwise.db'));
    older.pragma('page_size = 4096');
    older.pragma('journal_mode = WAL');
    older.close();
    const db = openDatabase({ dataDir, databaseUrl: undefined });
    try {
      await migrateToLatest(db);
      assert.equal(await pageSize(db), 4096);
    } finally {
      await db.destroy();
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

const insert = (db: Kysely<Database>, i: number) =>
  sql`insert into assistants (id, project_id, created_at, data) values (${`asst_${i}`}, 'p', 1, ${'x'.repeat(1000)})`.execute(db);

test('the checkpoint thread copies the WAL back into the database file while the server is idle', async () => {
  await withDatabase(async (db, dir) => {
    // Far fewer pages than the 1000 at which the writing connection would checkpoint by itself.
    for (let i = 0; i < 200; i++) await insert(db, i);
    const index = await eventually(async () => {
      const now = walIndex(dir);
      return now.frames > 0 && now.copied === now.frames ? now : undefined;
    });
    assert.ok(index.frames < 1000);
  });
});

test('under a steady writer the WAL starts over and stays small', async () => {
  await withDatabase(async (db, dir) => {
    // 10,000 commits of a page or more without a pause: over 20 MB of WAL if it never started over.
    for (let i = 0; i < 10_000; i++) await insert(db, i);
    assert.ok(statSync(join(dir, 'stepwise.db-wal')).size < 16 * 1024 * 1024);
  });
});
