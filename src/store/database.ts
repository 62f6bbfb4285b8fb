import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, type Migration, type MigrationProvider, Migrator, PostgresDialect, type SqliteDatabase, SqliteDialect } from 'kysely';
import pg from 'pg';
import * as sqliteVec from 'sqlite-vec';
import { namingPool } from './named-statements.js';
import * as core from './migrations/001-core.js';
import * as filesAndVectorStores from './migrations/002-files-and-vector-stores.js';
import * as chunks from './migrations/003-chunks.js';
import * as apiKeys from './migrations/004-api-keys.js';
import * as runLeases from './migrations/005-run-leases.js';
import * as fileExpiry from './migrations/006-file-expiry.js';
import * as ingestionLeases from './migrations/007-ingestion-leases.js';
import * as pendingText from './migrations/008-pending-text.js';
import * as placementIndexes from './migrations/009-placement-indexes.js';
import type { Database } from './schema.js';
import { checkpointInBackground } from './wal-checkpoints.js';

/** Migrations are compiled in, so a packaged install never needs to find files on disk. */
const migrationProvider: MigrationProvider = {
  getMigrations: async (): Promise<Record<string, Migration>> => ({
    '001-core': core,
    '002-files-and-vector-stores': filesAndVectorStores,
    '003-chunks': chunks,
    '004-api-keys': apiKeys,
    '005-run-leases': runLeases,
    '006-file-expiry': fileExpiry,
    '007-ingestion-leases': ingestionLeases,
    '008-pending-text': pendingText,
    '009-placement-indexes': placementIndexes,
  }),
};

export interface DatabaseOptions {
  dataDir: string;
  databaseUrl: string | undefined;
}

/** Connections one process opens to PostgreSQL at most, besides its two for LISTEN/NOTIFY. */
const POSTGRES_POOL_SIZE = 10;

// Counts and timestamps are bigint columns; every one of them fits a JavaScript number.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number(value));

export function isPostgresUrl(url: string | undefined): url is string {
  return url !== undefined && /^postgres(ql)?:\/\//.test(url);
}

/** The connection pool a process shares between its store and its job queue. */
export function openPostgresPool(url: string): pg.Pool {
  if (!isPostgresUrl(url)) throw new Error('DATABASE_URL must be a postgres:// URL; unset it to use the embedded SQLite database.');
  const pool = new pg.Pool({ connectionString: url, max: POSTGRES_POOL_SIZE });
  // A connection the server drops (a restart, a terminated backend) errors on its client, idle or
  // checked out; unhandled, that error would end the process. pg replaces the client, and the query
  // that was using it fails as usual.
  const logLost = (error: Error) => console.error(`[stepwise] a PostgreSQL connection was lost: ${error.message}`);
  pool.on('error', logLost);
  pool.on('connect', (client) => client.on('error', logLost));
  return pool;
}

/**
 * Pages of a new database file. A commit writes each page it changed whole into the WAL, and a
 * run's commits change a page or two in each of several tables and indexes: with 2 KB pages a run
 * writes about 40% fewer WAL bytes than with SQLite's default 4 KB, at no cost in CPU or search
 * speed (bench:scale-out, bench:file-search). At 1 KB a run's JSON, over a kilobyte, would spill
 * into overflow pages. An existing database keeps the page size it was created with.
 */
const SQLITE_PAGE_SIZE = 2048;

export function openDatabase(options: DatabaseOptions, pool?: pg.Pool): Kysely<Database> {
  if (options.databaseUrl !== undefined) {
    return new Kysely<Database>({ dialect: new PostgresDialect({ pool: namingPool(pool ?? openPostgresPool(options.databaseUrl)) }) });
  }
  mkdirSync(options.dataDir, { recursive: true });
  const sqlite = new SQLite(join(options.dataDir, 'stepwise.db'));
  // Before WAL mode, which fixes the page size of a new database.
  sqlite.pragma(`page_size = ${SQLITE_PAGE_SIZE}`);
  // WAL lets readers run while a run writes; NORMAL sync is durable across process crashes.
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('busy_timeout = 5000');
  // Reads through memory-mapped pages: vector and keyword search over many chunks run about twice as fast.
  sqlite.pragma('mmap_size = 268435456');
  // vec_distance_cosine, for file_search's vector ranking.
  sqliteVec.load(sqlite);
  const stopCheckpoints = checkpointInBackground(sqlite);
  const database = reusingStatements(sqlite);
  const close = () => {
    stopCheckpoints();
    database.close();
  };
  return new Kysely<Database>({ dialect: new SqliteDialect({ database: { ...database, close } }) });
}

/** Distinct statements kept prepared; the queries Stepwise sends are far fewer. */
const PREPARED_STATEMENTS = 500;

/**
 * Kysely prepares every query it runs anew; preparing (parsing and planning) costs SQLite more
 * than running these small statements. A prepared statement is kept by its SQL text and reused:
 * Kysely runs one statement at a time on its one connection, so no two uses overlap.
 */
function reusingStatements(sqlite: SQLite.Database): SqliteDatabase {
  const prepared = new Map<string, SQLite.Statement>();
  return {
    close: () => sqlite.close(),
    prepare(source: string) {
      let statement = prepared.get(source);
      if (statement) {
        // Most recently used last, so the first key is the one to drop.
        prepared.delete(source);
      } else {
        statement = sqlite.prepare(source);
        if (prepared.size >= PREPARED_STATEMENTS) prepared.delete(prepared.keys().next().value!);
      }
      prepared.set(source, statement);
      return statement;
    },
  };
}

export async function migrateToLatest(db: Kysely<Database>): Promise<string[]> {
  const migrator = new Migrator({ db, provider: migrationProvider });
  const { error, results } = await migrator.migrateToLatest();
  if (error) throw error instanceof Error ? error : new Error(String(error));
  return (results ?? []).filter((result) => result.status === 'Success').map((result) => result.migrationName);
}
