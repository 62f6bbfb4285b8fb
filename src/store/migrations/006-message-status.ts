import { type Kysely, sql } from 'kysely';
import { jsonText } from '../dialect.js';

/** A message's status as a column, so that a write can be conditional on it (compare-and-set). */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('messages').addColumn('status', 'text').execute();
  await sql`UPDATE messages SET status = ${jsonText(db, 'data', 'status')}`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('messages').dropColumn('status').execute();
}
