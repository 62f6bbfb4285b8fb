import { type Kysely, sql } from 'kysely';
import { jsonText } from '../dialect.js';

/** A file's `expires_at` as an indexed column, for the sweep that deletes expired files. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('files').addColumn('expires_at', 'bigint').execute();
  await sql`UPDATE files SET expires_at = cast(${jsonText(db, 'data', 'expires_at')} as bigint)`.execute(db);
  await db.schema.createIndex('files_expires_at').on('files').column('expires_at').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('files_expires_at').execute();
  await db.schema.alterTable('files').dropColumn('expires_at').execute();
}
