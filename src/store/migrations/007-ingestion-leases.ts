import type { Kysely } from 'kysely';

/** Leases on indexing jobs, as runs have: which worker indexes a file, until when, how often taken over. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('vector_store_files').addColumn('lease_owner', 'text').execute();
  await db.schema.alterTable('vector_store_files').addColumn('lease_expires_at', 'bigint').execute();
  await db.schema.alterTable('vector_store_files').addColumn('lease_takeovers', 'integer', (col) => col.notNull().defaultTo(0)).execute();
  // Every worker's orphan sweep looks for files in progress, so that lookup must not scan them all.
  await db.schema.createIndex('vector_store_files_status').on('vector_store_files').column('status').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('vector_store_files_status').execute();
  for (const column of ['lease_takeovers', 'lease_expires_at', 'lease_owner']) {
    await db.schema.alterTable('vector_store_files').dropColumn(column).execute();
  }
}
