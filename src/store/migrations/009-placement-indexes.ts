import type { Kysely } from 'kysely';

/**
 * Fewer indexes for every run to keep up: a run's steps are always looked up within their thread,
 * so one index on (thread, run) serves what two did, and a run's messages are found among their
 * thread's, by the thread index, as the messages list already does.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.createIndex('run_steps_thread_run').on('run_steps').columns(['thread_id', 'run_id', 'id']).execute();
  for (const index of ['run_steps_run', 'run_steps_thread', 'messages_run']) await db.schema.dropIndex(index).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.createIndex('messages_run').on('messages').columns(['run_id']).execute();
  await db.schema.createIndex('run_steps_thread').on('run_steps').columns(['thread_id']).execute();
  await db.schema.createIndex('run_steps_run').on('run_steps').columns(['run_id', 'id']).execute();
  await db.schema.dropIndex('run_steps_thread_run').execute();
}
