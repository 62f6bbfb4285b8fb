import type { Kysely } from 'kysely';
import type { Assistant, Message, Run, RunStatus, RunStep, Thread, Usage } from '../spec/wire.js';
import { Collection } from './collection.js';
import type { Database } from './schema.js';

export interface RunRef {
  projectId: string;
  runId: string;
}

/** Every collection over one database handle; `transaction` gives the same view inside a transaction. */
export class Store {
  readonly assistants: Collection<Assistant>;
  readonly threads: Collection<Thread>;
  readonly messages: Collection<Message>;
  readonly runs: Collection<Run>;
  readonly steps: Collection<RunStep>;

  constructor(readonly db: Kysely<Database>) {
    this.assistants = new Collection<Assistant>(db, 'assistants');
    this.threads = new Collection<Thread>(db, 'threads');
    this.messages = new Collection<Message>(db, 'messages', (m) => ({ thread_id: m.thread_id, run_id: m.run_id }));
    this.runs = new Collection<Run>(db, 'runs', (r) => ({ thread_id: r.thread_id, status: r.status, expires_at: r.expires_at }));
    this.steps = new Collection<RunStep>(db, 'run_steps', (s) => ({ thread_id: s.thread_id, run_id: s.run_id }));
  }

  transaction<T>(work: (store: Store) => Promise<T>): Promise<T> {
    return this.db.transaction().execute((trx) => work(new Store(trx)));
  }

  /** Runs of every project in the given statuses; for the engine's recovery and expiry sweeps. */
  async runsWithStatus(statuses: readonly RunStatus[], expiresBefore?: number): Promise<RunRef[]> {
    let query = this.db.selectFrom('runs').select(['project_id', 'id']).where('status', 'in', [...statuses]);
    if (expiresBefore !== undefined) query = query.where('expires_at', '<=', expiresBefore);
    const rows = await query.orderBy('id').execute();
    return rows.map((row) => ({ projectId: row.project_id, runId: row.id }));
  }

  async pendingUsage(projectId: string, runId: string): Promise<Usage | null> {
    const row = await this.db.selectFrom('runs').select('pending_usage').where('project_id', '=', projectId).where('id', '=', runId).executeTakeFirst();
    return row?.pending_usage ? (JSON.parse(row.pending_usage) as Usage) : null;
  }

  async setPendingUsage(projectId: string, runId: string, usage: Usage | null): Promise<void> {
    await this.db
      .updateTable('runs')
      .set({ pending_usage: usage && JSON.stringify(usage) })
      .where('project_id', '=', projectId)
      .where('id', '=', runId)
      .execute();
  }
}
