import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, type Migration, type MigrationProvider, Migrator, SqliteDialect } from 'kysely';
import * as sqliteVec from 'sqlite-vec';
import * as core from './migrations/001-core.js';
import * as filesAndVectorStores from './migrations/002-files-and-vector-stores.js';
import * as chunks from './migrations/003-chunks.js';
import * as apiKeys from './migrations/004-api-keys.js';
import type { Database } from './schema.js';

/** Migrations are compiled in, so a packaged install never needs to find files on disk. */
const migrationProvider: MigrationProvider = {
  getMigrations: async (): Promise<Record<string, Migration>> => ({
    '001-core': core,
    '002-files-and-vector-stores': filesAndVectorStores,
    '003-chunks': chunks,
    '004-api-keys': apiKeys,
  }),
};

export interface DatabaseOptions {
  dataDir: string;
  databaseUrl: string | undefined;
}

export function openDatabase(options: DatabaseOptions): Kysely<Database> {
  if (options.databaseUrl) {
    throw new Error('DATABASE_URL is set, but PostgreSQL is not supported yet; unset it to use the embedded SQLite database.');
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
