import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  const documentTable = (name: string) =>
    db.schema
      .createTable(name)
      .addColumn('id', 'text', (col) => col.primaryKey())
      .addColumn('project_id', 'text', (col) => col.notNull())
      .addColumn('created_at', 'bigint', (col) => col.notNull())
      .addColumn('data', 'text', (col) => col.notNull());

  await documentTable('assistants').execute();
  await documentTable('threads').execute();
  await documentTable('messages')
    .addColumn('thread_id', 'text', (col) => col.notNull())
    .addColumn('run_id', 'text')
    .execute();
  await documentTable('runs')
    .addColumn('thread_id', 'text', (col) => col.notNull())
    .addColumn('status', 'text', (col) => col.notNull())
    .addColumn('expires_at', 'bigint')
    // Token usage of a model call whose tool_calls step waits for outputs (a step shows no usage until it ends).
    .addColumn('pending_usage', 'text')
    .execute();
  await documentTable('run_steps')
    .addColumn('thread_id', 'text', (col) => col.notNull())
    .addColumn('run_id', 'text', (col) => col.notNull())
    .execute();

  await db.schema.createIndex('messages_thread').on('messages').columns(['thread_id', 'id']).execute();
  await db.schema.createIndex('messages_run').on('messages').columns(['run_id']).execute();
  await db.schema.createIndex('runs_thread').on('runs').columns(['thread_id', 'id']).execute();
  await db.schema.createIndex('runs_status').on('runs').columns(['status']).execute();
  await db.schema.createIndex('run_steps_run').on('run_steps').columns(['run_id', 'id']).execute();
  await db.schema.createIndex('run_steps_thread').on('run_steps').columns(['thread_id']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ['run_steps', 'runs', 'messages', 'threads', 'assistants']) {
    await db.schema.dropTable(table).execute();
  }
}
