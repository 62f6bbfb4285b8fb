import type { Kysely } from 'kysely';

/** Leases on indexing jobs, as runs have: which worker indexes a file, until when, how often taken over. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('vector_store_files').addColumn('lease_owner', 'text').execute();
  await db.schema.alterTable('vector_store_files').addColumn('lease_expires_at', 'bigint').execute();
  await db.schema.alterTable('vector_store_files').addColumn('lease_takeovers', 'integer', (col) => col.notNull().defaultTo(0)).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const column of ['lease_takeovers', 'lease_expires_at', 'lease_owner']) {
    await db.schema.alterTable('vector_store_files').dropColumn(column).execute();
  }
}
