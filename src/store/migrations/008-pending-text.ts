import type { Kysely } from 'kysely';

/** Text a model streamed after its tool calls, kept while the run waits for the calls' outputs. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('runs').addColumn('pending_text', 'text').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('runs').dropColumn('pending_text').execute();
}
