import { type Kysely, sql } from 'kysely';
import type { Database } from './schema.js';

/**
 * SQLite's `PRAGMA data_version` on the process's one connection: it moves whenever another
 * connection (the keys CLI, in another process) committed to the database, and stays put for this
 * connection's own writes. Kysely runs it in turn with the connection's other statements, so never
 * inside an open transaction, whose snapshot could predate such a commit.
 */
export async function sqliteDataVersion(db: Kysely<Database>): Promise<number> {
  const { rows } = await sql<{ data_version: number }>`PRAGMA data_version`.execute(db);
  return rows[0]!.data_version;
}
