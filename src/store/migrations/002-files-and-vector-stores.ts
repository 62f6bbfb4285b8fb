import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  const documentTable = (name: string) =>
    db.schema
      .createTable(name)
      .addColumn('project_id', 'text', (col) => col.notNull())
      .addColumn('created_at', 'bigint', (col) => col.notNull())
      .addColumn('data', 'text', (col) => col.notNull());

  await documentTable('files').addColumn('id', 'text', (col) => col.primaryKey()).addColumn('purpose', 'text', (col) => col.notNull()).execute();
  await documentTable('uploads').addColumn('id', 'text', (col) => col.primaryKey()).addColumn('status', 'text', (col) => col.notNull()).execute();
  await documentTable('upload_parts').addColumn('id', 'text', (col) => col.primaryKey()).addColumn('upload_id', 'text', (col) => col.notNull()).execute();
  await documentTable('vector_stores')
    .addColumn('id', 'text', (col) => col.primaryKey())
    .addColumn('status', 'text', (col) => col.notNull())
    .addColumn('expires_at', 'bigint')
    .execute();
  // A file may sit in many vector stores: its id is unique only within one.
  await documentTable('vector_store_files')
    .addColumn('id', 'text', (col) => col.notNull())
    .addColumn('vector_store_id', 'text', (col) => col.notNull())
    .addColumn('status', 'text', (col) => col.notNull())
    .addColumn('batch_id', 'text')
    .addPrimaryKeyConstraint('vector_store_files_pk', ['vector_store_id', 'id'])
    .execute();
  await documentTable('file_batches')
    .addColumn('id', 'text', (col) => col.primaryKey())
    .addColumn('vector_store_id', 'text', (col) => col.notNull())
    .addColumn('status', 'text', (col) => col.notNull())
    .execute();

  await db.schema.createIndex('files_purpose').on('files').columns(['project_id', 'purpose', 'id']).execute();
  await db.schema.createIndex('upload_parts_upload').on('upload_parts').columns(['upload_id', 'id']).execute();
  await db.schema.createIndex('vector_store_files_file').on('vector_store_files').columns(['id']).execute();
  await db.schema.createIndex('vector_store_files_batch').on('vector_store_files').columns(['batch_id']).execute();
  await db.schema.createIndex('file_batches_store').on('file_batches').columns(['vector_store_id', 'id']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ['file_batches', 'vector_store_files', 'vector_stores', 'upload_parts', 'uploads', 'files']) {
    await db.schema.dropTable(table).execute();
  }
}
