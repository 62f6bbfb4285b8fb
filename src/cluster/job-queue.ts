import { type Kysely, sql } from 'kysely';
import PQueue from 'p-queue';
import type pg from 'pg';
import { Logger, makeWorkerUtils, run, type Runner, type Task, type WorkerUtils } from 'graphile-worker';

export type TaskName = 'stepwise_run' | 'stepwise_ingest';

/** A failed job is tried again this many times in all (graphile-worker backs off between tries). */
const MAX_ATTEMPTS = 5;

/** Jobs a process fetches (and locks) at once for its idle workers. */
const LOCAL_QUEUE_SIZE = 4;

export interface TaskWork {
  handler: (payload: unknown) => Promise<void>;
  concurrency: number;
}

function graphileLogger(log: (message: string, error?: unknown) => void): Logger {
  return new Logger(() => (level, message) => {
    if (level === 'error') log(`job queue: ${message}`);
  });
}

/**
 * Background work through graphile-worker, a PostgreSQL-backed job queue: jobs are rows, workers
 * hear of new ones through LISTEN/NOTIFY, and a job key keeps one pending job per file. Runs have
 * their own queue, the runs table (cluster-runtime.ts).
 */
export class JobQueue {
  #runner: Runner | undefined;

  private constructor(
    readonly db: Kysely<any>,
    readonly pool: pg.Pool,
    readonly utils: WorkerUtils,
    readonly log: (message: string, error?: unknown) => void,
  ) {}

  static async connect(db: Kysely<any>, pool: pg.Pool, log: (message: string, error?: unknown) => void): Promise<JobQueue> {
    const utils = await makeWorkerUtils({ pgPool: pool, logger: graphileLogger(log) });
    await utils.migrate();
    return new JobQueue(db, pool, utils, log);
  }

  /**
   * Queues a job unless one with its key is waiting already (that one keeps its place in line, so
   * the orphan sweeps can queue again freely); a job with its key still running does not count.
   * The job is flagged with its task, so that a runner at its limit for the task can skip it.
   */
  async add(task: TaskName, payload: object, key: string): Promise<void> {
    await sql`SELECT graphile_worker.add_job(identifier => ${task}::text, payload => ${JSON.stringify(payload)}::json, max_attempts => ${MAX_ATTEMPTS}::int, job_key => ${`${task}:${key}`}::text, flags => ${[task]}::text[], job_key_mode => 'preserve_run_at')`.execute(this.db);
  }

  /**
   * Starts executing jobs of these tasks in this process, each up to its `concurrency` at once.
   * One runner serves every task: each runner holds a LISTEN connection, and every new job wakes
   * an idle worker in each runner of each process, so one runner per process is the fewest fetches.
   */
  async work(tasks: Record<TaskName, TaskWork>): Promise<void> {
    const entries = Object.entries(tasks) as [TaskName, TaskWork][];
    // The local queue may hand a job to a worker that asked before its task was at its limit: the
    // job then waits here for its turn, so the limit holds.
    const queues = new Map(entries.map(([task, { concurrency }]) => [task, new PQueue({ concurrency })]));
    const taskList: Record<string, Task> = {};
    for (const [task, { handler }] of entries) taskList[task] = (payload) => queues.get(task)!.add(() => handler(payload));
    this.#runner = await run({
      pgPool: this.pool,
      concurrency: entries.reduce((sum, [, { concurrency }]) => sum + concurrency, 0),
      // A task at its limit is skipped when fetching, so the runner's slots stay split between the
      // tasks. Null (nothing to skip) lets the local queue serve the job.
      forbiddenFlags: () => {
        const full = entries.filter(([task, { concurrency }]) => queues.get(task)!.pending + queues.get(task)!.size >= concurrency).map(([task]) => task);
        return full.length > 0 ? full : null;
      },
      noHandleSignals: true,
      preset: {
        worker: {
          // The process fetches jobs for its workers, a few at a time: a new job's NOTIFY costs
          // one fetch per process, not one per idle worker, and idle workers do not each poll.
          localQueue: { size: LOCAL_QUEUE_SIZE },
          // New jobs arrive by NOTIFY; polling only picks up retries that come due.
          pollInterval: 1000,
          // Jobs that end within the same millisecond are deleted in one statement. A job a crash
          // leaves undeleted runs again, and finds its run settled, its file indexed.
          completeJobBatchDelay: 0,
        },
      },
      taskList,
      logger: graphileLogger(this.log),
    });
  }

  async close(): Promise<void> {
    await this.#runner?.stop();
    await this.utils.release();
  }
}
