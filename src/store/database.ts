import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, type Migration, type MigrationProvider, Migrator, PostgresDialect, SqliteDialect } from 'kysely';
import pg from 'pg';
import * as sqliteVec from 'sqlite-vec';
import * as core from './migrations/001-core.js';
import * as filesAndVectorStores from './migrations/002-files-and-vector-stores.js';
import * as chunks from './migrations/003-chunks.js';
import * as apiKeys from './migrations/004-api-keys.js';
import * as runLeases from './migrations/005-run-leases.js';
import * as fileExpiry from './migrations/006-file-expiry.js';
import * as ingestionLeases from './migrations/007-ingestion-leases.js';
import * as pendingText from './migrations/008-pending-text.js';
import type { Database } from './schema.js';

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
  return new pg.Pool({ connectionString: url, max: POSTGRES_POOL_SIZE });
}

export function openDatabase(options: DatabaseOptions, pool?: pg.Pool): Kysely<Database> {
  if (options.databaseUrl !== undefined) {
    return new Kysely<Database>({ dialect: new PostgresDialect({ pool: pool ?? openPostgresPool(options.databaseUrl) }) });
  }
  mkdirSync(options.dataDir, { recursive: true });
  const sqlite = new SQLite(join(options.dataDir, 'stepwise.db'));
  // WAL lets readers run while a run writes; NORMAL sync is durable across process crashes.
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('busy_timeout = 5000');
  // Reads through memory-mapped pages: vector and keyword search over many chunks run about twice as fast.
  sqlite.pragma('mmap_size = 268435456');
  // vec_distance_cosine, for file_search's vector ranking.
  sqliteVec.load(sqlite);
  return new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
}

export async function migrateToLatest(db: Kysely<Database>): Promise<string[]> {
  const migrator = new Migrator({ db, provider: migrationProvider });
  const { error, results } = await migrator.migrateToLatest();
  if (error) throw error instanceof Error ? error : new Error(String(error));
  return (results ?? []).filter((result) => result.status === 'Success').map((result) => result.migrationName);
}
