import { type Kysely, type QueryCreator, type RawBuilder, sql } from 'kysely';
import type {
  Assistant,
  Message,
  OpenAIFile,
  Run,
  RunStatus,
  RunStep,
  Thread,
  Upload,
  UploadPart,
  Usage,
  VectorStore,
  VectorStoreFile,
  VectorStoreFileBatch,
} from '../spec/wire.js';
import { Collection, type CollectionName, type Replacement, type TableRows } from './collection.js';
import { dialectOf, jsonNumber } from './dialect.js';
import { executeShaped, rowsShape } from './shaped-query.js';
import type { Database, RunRow } from './schema.js';

export interface RunForExecution {
  run: Run;
  pendingText: string | null;
}

/** What a prompt is built from: a thread's messages and run steps, each in creation order. */
export interface ThreadHistory {
  messages: Message[];
  steps: RunStep[];
}

/** The run's columns an execution starts from, as `runForExecution` (or a worker's lease claim) reads them. */
export const RUN_FOR_EXECUTION_COLUMNS = ['data', 'pending_text'] as const;

export type RunForExecutionRow = Pick<RunRow, (typeof RUN_FOR_EXECUTION_COLUMNS)[number]>;

/**
 * What a statement that reads or writes one run row (a worker's lease claim, on PostgreSQL) can
 * return beside it, to read the run's thread in the same round trip: the JSON arrays of the
 * thread's messages and of its steps, each in creation order (null for none).
 */
export const THREAD_HISTORY_COLUMNS = [
  sql<string | null>`(SELECT '[' || string_agg(m.data, ',' ORDER BY m.id) || ']' FROM messages m WHERE m.project_id = runs.project_id AND m.thread_id = runs.thread_id)`.as('thread_messages'),
  sql<string | null>`(SELECT '[' || string_agg(s.data, ',' ORDER BY s.id) || ']' FROM run_steps s WHERE s.project_id = runs.project_id AND s.thread_id = runs.thread_id)`.as('thread_steps'),
];

export type ThreadHistoryRow = {
  thread_messages: string | null;
  thread_steps: string | null;
};

export function parseThreadHistory(row: ThreadHistoryRow): ThreadHistory {
  return { messages: row.thread_messages ? (JSON.parse(row.thread_messages) as Message[]) : [], steps: row.thread_steps ? (JSON.parse(row.thread_steps) as RunStep[]) : [] };
}

export function parseRunForExecution(row: RunForExecutionRow): RunForExecution {
  return { run: JSON.parse(row.data) as Run, pendingText: row.pending_text };
}

/**
 * What a worker's claim also writes (PostgreSQL only), so that it starts a queued run no one
 * executed yet as `RunExecutor` would, saving that write's round trip: the run `in_progress`,
 * `started_at` now, the JSON exactly as JSON.stringify would write it, so that the executor's
 * writes guarded by the stored text find it as they expect.
 *
 * The JSON is rewritten with string functions (PostgreSQL's regular expressions cost 0.1 to 0.4 ms
 * a row here). A run's JSON begins with keys only the server writes, in the order `RunService`
 * builds them (a change keeps each key where it was): the id, `created_at` and the thread, which
 * the row's columns also hold, then the assistant's id, which holds no quote, then the status,
 * `expires_at` (a column too) and `started_at`. So the first `","status":…` after the
 * assistant's id is the run's own. A run stored any other way
 * (queued again after tool outputs, or whose creator's hold lapsed) is left to the executor.
 */
export function startingUnstartedRuns(startedAt: number): Record<'status' | 'data', RawBuilder<string>> {
  const head = sql<string>`'{"id":"' || id || '","object":"thread.run","created_at":' || created_at || ',"thread_id":"' || thread_id || '","assistant_id":"'`;
  const unstartedTail = sql<string>`'","status":"queued","required_action":null,"last_error":null,"expires_at":' || expires_at || ',"started_at":null,'`;
  const startedTail = sql<string>`'","status":"in_progress","required_action":null,"last_error":null,"expires_at":' || expires_at || ',"started_at":' || ${String(startedAt)} || ','`;
  const at = sql<number>`strpos(data, ${unstartedTail})`;
  const assistantId = sql<string>`substr(data, length(${head}) + 1, ${at} - length(${head}) - 1)`;
  const unstarted = sql<boolean>`status = 'queued' AND lease_owner IS NULL AND starts_with(data, ${head}) AND ${at} > length(${head}) AND strpos(${assistantId}, '"') = 0`;
  return {
    status: sql<string>`CASE WHEN ${unstarted} THEN 'in_progress' ELSE status END`,
    data: sql<string>`CASE WHEN ${unstarted} THEN substr(data, 1, ${at} - 1) || ${startedTail} || substr(data, ${at} + length(${unstartedTail})) ELSE data END`,
  };
}

/**
 * Whether the claim made with `startingUnstartedRuns(startedAt)` started `run`, as it read it
 * back. A run the claim found `in_progress` already (its last claim's process closed before
 * executing it, or data from before leases) is one to take over, not to start.
 */
export function startedByClaim(run: Run, startedAt: number): boolean {
  return run.status === 'in_progress' && run.started_at === startedAt;
}

/** The statuses in which a run is executed, or waits for its execution; a run in any other is settled. */
export const EXECUTING_RUN_STATUSES: readonly RunStatus[] = ['queued', 'in_progress', 'cancelling'];

/**
 * A run's lease guards its execution (src/store/leases.ts), so the write that settles the run
 * (it ends, or waits for tool outputs) ends the lease too: the worker then has no release to send.
 */
function runColumns(run: Run): Record<string, string | number | null> {
  const columns = { status: run.status, expires_at: run.expires_at };
  return EXECUTING_RUN_STATUSES.includes(run.status) ? columns : { ...columns, lease_owner: null, lease_expires_at: null };
}

/** Thrown inside `replaceAll`'s transaction to roll back the replacements made before one that missed. */
const NOT_ALL_REPLACED = new Error('not all replaced');

export interface RunRef {
  projectId: string;
  runId: string;
}

/** An object of some project, by id. */
export interface ObjectRef {
  projectId: string;
  id: string;
}

export interface VectorStoreFileRef {
  projectId: string;
  vectorStoreId: string;
  fileId: string;
}

/** How many vector store files of one batch (or of none) are in one status, and the bytes they use. */
export interface StatusTally {
  batchId: string | null;
  status: VectorStoreFile['status'];
  files: number;
  usageBytes: number;
}

/** Every collection over one database handle; `transaction` gives the same view inside a transaction. */
export class Store {
  readonly assistants: Collection<Assistant>;
  readonly threads: Collection<Thread>;
  readonly messages: Collection<Message>;
  readonly runs: Collection<Run>;
  readonly steps: Collection<RunStep>;
  readonly files: Collection<OpenAIFile>;
  readonly uploads: Collection<Upload>;
  readonly uploadParts: Collection<UploadPart>;
  readonly vectorStores: Collection<VectorStore>;
  readonly vectorStoreFiles: Collection<VectorStoreFile>;
  readonly fileBatches: Collection<VectorStoreFileBatch>;

  constructor(readonly db: Kysely<Database>) {
    this.assistants = new Collection<Assistant>(db, 'assistants');
    this.threads = new Collection<Thread>(db, 'threads');
    this.messages = new Collection<Message>(db, 'messages', { placement: (m) => ({ thread_id: m.thread_id, run_id: m.run_id }) });
    this.runs = new Collection<Run>(db, 'runs', { placement: (r) => ({ thread_id: r.thread_id }), columns: runColumns });
    this.steps = new Collection<RunStep>(db, 'run_steps', { placement: (s) => ({ thread_id: s.thread_id, run_id: s.run_id }) });
    this.files = new Collection<OpenAIFile>(db, 'files', { columns: (f) => ({ purpose: f.purpose, expires_at: f.expires_at ?? null }) });
    this.uploads = new Collection<Upload>(db, 'uploads', { columns: (u) => ({ status: u.status }) });
    this.uploadParts = new Collection<UploadPart>(db, 'upload_parts', { placement: (p) => ({ upload_id: p.upload_id }) });
    this.vectorStores = new Collection<VectorStore>(db, 'vector_stores', { columns: (v) => ({ status: v.status, expires_at: v.expires_at ?? null }) });
    this.vectorStoreFiles = new Collection<VectorStoreFile>(db, 'vector_store_files', {
      placement: (f) => ({ vector_store_id: f.vector_store_id }),
      columns: (f) => ({ status: f.status }),
      key: (f) => ({ vector_store_id: f.vector_store_id }),
    });
    this.fileBatches = new Collection<VectorStoreFileBatch>(db, 'file_batches', { placement: (b) => ({ vector_store_id: b.vector_store_id }), columns: (b) => ({ status: b.status }) });
  }

  /** The collection of a table, for the writes that name their table (`replaceAll`). */
  #collection(table: CollectionName): Pick<Collection<never>, 'apply'> {
    const all = [this.assistants, this.threads, this.messages, this.runs, this.steps, this.files, this.uploads, this.uploadParts, this.vectorStores, this.vectorStoreFiles, this.fileBatches];
    return all.find((collection) => collection.table === table)!;
  }

  transaction<T>(work: (store: Store) => Promise<T>): Promise<T> {
    return this.db.transaction().execute((trx) => work(new Store(trx)));
  }

  /**
   * Writes new rows of several tables as one unit. On PostgreSQL that is one statement (each
   * table's INSERT in a data-modifying CTE): one round trip, where a transaction of the inserts
   * takes one for each and two more for BEGIN and COMMIT. `alongside`, PostgreSQL only: an
   * expression the statement evaluates too (a scheduler's `queueing`).
   */
  async insertAll(tables: TableRows[], alongside?: RawBuilder<unknown>): Promise<void> {
    // Kysely cannot type inserts into tables chosen at run time.
    const db = this.db as Kysely<any>;
    const present = tables.filter(({ rows }) => rows.length > 0);
    if (present.length === 0) return;
    const shaped = present.map(({ table, rows }) => ({ table, rows: rowsShape(rows) }));
    if (dialectOf(db) === 'postgres') {
      const selected = alongside ?? sql`1`;
      const besides = selected.compile(db);
      const shape = shaped.every(({ rows }) => rows) ? `insertAll ${shaped.map(({ table, rows }) => `${table} ${rows!.shape}`).join(' ')} ${besides.sql}` : undefined;
      const parameters = [...shaped.flatMap(({ rows }) => rows?.parameters ?? []), ...besides.parameters];
      await executeShaped(db, shape, parameters, () => {
        let query: QueryCreator<any> = db;
        for (const [index, { table, rows }] of present.entries()) query = query.with(`inserted_${index}`, (creator) => creator.insertInto(table).values(rows));
        return query.selectNoFrom(selected.as('done'));
      });
      return;
    }
    if (alongside) throw new Error('insertAll evaluates SQL alongside only on PostgreSQL');
    if (!db.isTransaction) return this.transaction((store) => store.insertAll(present));
    for (const [index, { table, rows }] of present.entries()) {
      const shape = shaped[index]!.rows;
      await executeShaped(db, shape && `${table} insert ${shape.shape}`, shape?.parameters ?? [], () => db.insertInto(table).values(rows));
    }
  }

  /**
   * Makes all the replacements or none: none when any object is gone or no longer the one its
   * replacement expects. On PostgreSQL that is one statement, which first locks the rows that are
   * still as expected and then writes only if it locked them all: one round trip, where a
   * transaction of the writes takes one for each and two more for BEGIN and COMMIT. The rows are
   * locked in the order given. Outside a transaction only: on SQLite it is a transaction of its own.
   */
  async replaceAll(replacements: Replacement[]): Promise<boolean> {
    const db = this.db as Kysely<any>;
    if (db.isTransaction) throw new Error('replaceAll is a unit of its own, not part of a transaction');
    if (dialectOf(db) === 'postgres') {
      const shape = `replaceAll ${replacements.map(({ table, values, expectedData }) => `${table}(${Object.keys(values).join()})${expectedData === undefined ? '' : ' as expected'}`).join(' ')}`;
      const parameters = [
        ...replacements.flatMap(({ projectId, id, expectedData }) => (expectedData === undefined ? [projectId, id] : [projectId, id, expectedData])),
        ...replacements.flatMap(({ projectId, id, values }) => [...Object.values(values), projectId, id]),
      ];
      const { rows } = await executeShaped<{ held: boolean }>(db, shape, parameters, () => {
        let query: QueryCreator<any> = db;
        for (const [index, { table, projectId, id, expectedData }] of replacements.entries()) {
          query = query.with(`held_${index}`, (creator) => {
            const row = creator.selectFrom(table).select('id').where('project_id', '=', projectId).where('id', '=', id);
            return (expectedData === undefined ? row : row.where('data', '=', expectedData)).forUpdate();
          });
        }
        const allHeld = sql.join(replacements.map((_, index) => sql`(SELECT count(*) FROM ${sql.table(`held_${index}`)}) = 1`), sql` AND `);
        query = query.with('all_held', (creator) => creator.selectNoFrom(sql<boolean>`${allHeld}`.as('held')));
        for (const [index, { table, projectId, id, values }] of replacements.entries()) {
          query = query.with(`replaced_${index}`, (creator) =>
            creator.updateTable(table).set(values).where('project_id', '=', projectId).where('id', '=', id).where(sql<boolean>`(SELECT held FROM all_held)`),
          );
        }
        return query.selectFrom('all_held').select('held');
      });
      return rows[0]?.held === true;
    }
    const replaceEach = async (store: Store): Promise<boolean> => {
      for (const replacement of replacements) if (!(await store.#collection(replacement.table).apply(replacement))) throw NOT_ALL_REPLACED;
      return true;
    };
    return this.transaction(replaceEach).catch((error: unknown) => (error === NOT_ALL_REPLACED ? false : Promise.reject(error)));
  }

  /**
   * Inside a transaction: holds off the project's other such transactions until this one ends, for
   * a check that reads before it writes (one active run per thread, quotas). SQLite runs one
   * transaction at a time anyway; PostgreSQL takes a transaction-scoped advisory lock.
   */
  async lockProject(projectId: string): Promise<void> {
    if (dialectOf(this.db) === 'postgres') await sql`SELECT pg_advisory_xact_lock(hashtext(${projectId}))`.execute(this.db);
  }

  /** Runs of every project in the given statuses; for the engine's recovery and expiry sweeps. */
  async runsWithStatus(statuses: readonly RunStatus[], expiresBefore?: number): Promise<RunRef[]> {
    let query = this.db.selectFrom('runs').select(['project_id', 'id']).where('status', 'in', [...statuses]);
    if (expiresBefore !== undefined) query = query.where('expires_at', '<=', expiresBefore);
    const rows = await query.orderBy('id').execute();
    return rows.map((row) => ({ projectId: row.project_id, runId: row.id }));
  }

  /** How many files a project holds and their bytes, for its storage limits. */
  async projectFileUsage(projectId: string): Promise<{ files: number; bytes: number }> {
    const row = await this.db
      .selectFrom('files')
      .select([sql<number>`count(*)`.as('files'), sql<number>`coalesce(sum(${jsonNumber(this.db, 'data', 'bytes')}), 0)`.as('bytes')])
      .where('project_id', '=', projectId)
      .executeTakeFirstOrThrow();
    return { files: Number(row.files), bytes: Number(row.bytes) };
  }

  /** Files of every project whose `expires_at` is at or before `nowSeconds`; for the expiry sweep. */
  async filesExpiredBy(nowSeconds: number): Promise<ObjectRef[]> {
    const rows = await this.db.selectFrom('files').select(['project_id', 'id']).where('expires_at', '<=', nowSeconds).orderBy('expires_at').execute();
    return rows.map((row) => ({ projectId: row.project_id, id: row.id }));
  }

  /** Pending uploads of every project whose hour ran out by `nowSeconds`; for the expiry sweep. */
  async uploadsExpiredBy(nowSeconds: number): Promise<ObjectRef[]> {
    const rows = await this.db
      .selectFrom('uploads')
      .select(['project_id', 'id'])
      .where('status', '=', 'pending')
      .where(jsonNumber(this.db, 'data', 'expires_at'), '<=', nowSeconds)
      .execute();
    return rows.map((row) => ({ projectId: row.project_id, id: row.id }));
  }

  /** Counts one more takeover of the run's execution, and returns the count. */
  async recordTakeover({ projectId, runId }: RunRef): Promise<number> {
    const row = await this.db
      .updateTable('runs')
      .set((eb) => ({ lease_takeovers: eb('lease_takeovers', '+', 1) }))
      .where('project_id', '=', projectId)
      .where('id', '=', runId)
      .returning('lease_takeovers')
      .executeTakeFirst();
    return row?.lease_takeovers ?? 0;
  }

  async countRuns(projectId: string, statuses: readonly RunStatus[]): Promise<number> {
    const row = await this.db
      .selectFrom('runs')
      .select((eb) => eb.fn.countAll<number>().as('count'))
      .where('project_id', '=', projectId)
      .where('status', 'in', [...statuses])
      .executeTakeFirst();
    return Number(row?.count ?? 0);
  }

  async pendingUsage(projectId: string, runId: string): Promise<Usage | null> {
    const row = await this.db.selectFrom('runs').select('pending_usage').where('project_id', '=', projectId).where('id', '=', runId).executeTakeFirst();
    return row?.pending_usage ? (JSON.parse(row.pending_usage) as Usage) : null;
  }

  /** A run with the text its last turn held for after the tool outputs, in one read. */
  async runForExecution(projectId: string, runId: string): Promise<RunForExecution | undefined> {
    const row = await this.db.selectFrom('runs').select(RUN_FOR_EXECUTION_COLUMNS).where('project_id', '=', projectId).where('id', '=', runId).executeTakeFirst();
    return row && parseRunForExecution(row);
  }

  /** A thread's messages and run steps, each in creation order, in one read: what a prompt is built from. */
  async threadHistory(projectId: string, threadId: string): Promise<ThreadHistory> {
    const rows = await this.db
      .selectFrom('messages')
      .select([sql<string>`'message'`.as('kind'), 'id', 'data'])
      .where('project_id', '=', projectId)
      .where('thread_id', '=', threadId)
      .unionAll((eb) => eb.selectFrom('run_steps').select([sql<string>`'step'`.as('kind'), 'id', 'data']).where('project_id', '=', projectId).where('thread_id', '=', threadId))
      .orderBy('id')
      .execute();
    const messages: Message[] = [];
    const steps: RunStep[] = [];
    for (const row of rows) {
      if (row.kind === 'message') messages.push(JSON.parse(row.data) as Message);
      else steps.push(JSON.parse(row.data) as RunStep);
    }
    return { messages, steps };
  }

  async setPendingText(projectId: string, runId: string, text: string | null): Promise<void> {
    await this.db.updateTable('runs').set({ pending_text: text }).where('project_id', '=', projectId).where('id', '=', runId).execute();
  }

  async setPendingUsage(projectId: string, runId: string, usage: Usage | null): Promise<void> {
    await this.db
      .updateTable('runs')
      .set({ pending_usage: usage && JSON.stringify(usage) })
      .where('project_id', '=', projectId)
      .where('id', '=', runId)
      .execute();
  }

  /** Vector store files of every project still waiting to be indexed; for recovery at start-up. */
  async vectorStoreFilesInProgress(): Promise<VectorStoreFileRef[]> {
    const rows = await this.db.selectFrom('vector_store_files').select(['project_id', 'vector_store_id', 'id']).where('status', '=', 'in_progress').orderBy('created_at').execute();
    return rows.map((row) => ({ projectId: row.project_id, vectorStoreId: row.vector_store_id, fileId: row.id }));
  }

  /** Files of a vector store counted by batch and status, in one statement so all counts agree. */
  async vectorStoreFileTally(projectId: string, vectorStoreId: string): Promise<StatusTally[]> {
    const rows = await this.db
      .selectFrom('vector_store_files')
      .select(['batch_id', 'status', sql<number>`count(*)`.as('files'), sql<number>`sum(${jsonNumber(this.db, 'data', 'usage_bytes')})`.as('usageBytes')])
      .where('project_id', '=', projectId)
      .where('vector_store_id', '=', vectorStoreId)
      .groupBy(['batch_id', 'status'])
      .execute();
    return rows.map((row) => ({
      batchId: row.batch_id,
      status: row.status as StatusTally['status'],
      files: Number(row.files),
      usageBytes: Number(row.usageBytes),
    }));
  }

  /** The batch a vector store file belongs to is not part of its wire object, so it is set apart. */
  async setVectorStoreFileBatch({ projectId, vectorStoreId, fileId }: VectorStoreFileRef, batchId: string): Promise<void> {
    await this.db
      .updateTable('vector_store_files')
      .set({ batch_id: batchId })
      .where('project_id', '=', projectId)
      .where('vector_store_id', '=', vectorStoreId)
      .where('id', '=', fileId)
      .execute();
  }
}
