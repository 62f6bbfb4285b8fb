import type pg from 'pg';
import { Logger, makeWorkerUtils, run, type Runner, type Task, type WorkerUtils } from 'graphile-worker';

export type TaskName = 'stepwise_run' | 'stepwise_ingest';

/** A failed job is tried again this many times in all (graphile-worker backs off between tries). */
const MAX_ATTEMPTS = 5;

function graphileLogger(log: (message: string, error?: unknown) => void): Logger {
  return new Logger(() => (level, message) => {
    if (level === 'error') log(`job queue: ${message}`);
  });
}

/**
 * Background work through graphile-worker, a PostgreSQL-backed job queue: jobs are rows, workers
 * hear of new ones through LISTEN/NOTIFY, and a job key keeps one pending job per run or file.
 */
export class JobQueue {
  readonly #runners: Runner[] = [];

  private constructor(
    readonly pool: pg.Pool,
    readonly utils: WorkerUtils,
    readonly log: (message: string, error?: unknown) => void,
  ) {}

  static async connect(pool: pg.Pool, log: (message: string, error?: unknown) => void): Promise<JobQueue> {
    const utils = await makeWorkerUtils({ pgPool: pool, logger: graphileLogger(log) });
    await utils.migrate();
    return new JobQueue(pool, utils, log);
  }

  /**
   * Queues a job unless one with its key is waiting already (that one keeps its place in line, so
   * the orphan sweeps can queue again freely); a job with its key still running does not count.
   */
  async add(task: TaskName, payload: object, key: string): Promise<void> {
    await this.utils.addJob(task, payload, { jobKey: `${task}:${key}`, jobKeyMode: 'preserve_run_at', maxAttempts: MAX_ATTEMPTS });
  }

  /** Starts executing jobs of one task in this process, up to `concurrency` at once. */
  async work(task: TaskName, handler: (payload: unknown) => Promise<void>, concurrency: number): Promise<void> {
    const taskList: Record<string, Task> = { [task]: (payload) => handler(payload) };
    const runner = await run({
      pgPool: this.pool,
      concurrency,
      noHandleSignals: true,
      // New jobs arrive by NOTIFY; polling only picks up retries that come due.
      pollInterval: 1000,
      taskList,
      logger: graphileLogger(this.log),
    });
    this.#runners.push(runner);
  }

  async close(): Promise<void> {
    await Promise.all(this.#runners.map((runner) => runner.stop()));
    await this.utils.release();
  }
}
