import type { Kysely } from 'kysely';

/** Which worker process executes a run, until when, and how often other workers took it over. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('runs').addColumn('lease_owner', 'text').execute();
  await db.schema.alterTable('runs').addColumn('lease_expires_at', 'bigint').execute();
  await db.schema.alterTable('runs').addColumn('lease_takeovers', 'integer', (col) => col.notNull().defaultTo(0)).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const column of ['lease_takeovers', 'lease_expires_at', 'lease_owner']) {
    await db.schema.alterTable('runs').dropColumn(column).execute();
  }
}
