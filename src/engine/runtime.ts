import type { IngestionScheduler, RunScheduler, ServiceContext } from '../services/context.js';
import { type IngestionDeps, recoverIngestion } from '../services/ingestion.js';
import { IngestionQueue } from './ingestion-queue.js';
import { recoverRuns, sweepExpired } from './maintenance.js';
import type { RunExecutor } from './run-executor.js';
import { RunQueue } from './run-queue.js';

export type Log = (message: string, error?: unknown) => void;

/** Where runs and ingestion execute: in this process (SQLite), or on worker processes (PostgreSQL). */
export interface Runtime {
  readonly scheduler: RunScheduler;
  readonly ingestion: IngestionScheduler;
  /** Starts background work (recovery, sweeps, a worker's jobs) once the services exist. */
  start(ctx: ServiceContext): Promise<void>;
  close(): Promise<void>;
}

/** Files indexed at once; each holds a file's bytes and its embedding requests. */
export const INGESTION_CONCURRENCY = 4;

/** Runs `task` every `ms` until the returned function is called; a failure is logged, not thrown. */
export function every(ms: number, name: string, task: () => Promise<unknown>, log: Log): () => void {
  const timer = setInterval(() => void task().catch((error) => log(`${name} failed`, error)), ms);
  timer.unref();
  return () => clearInterval(timer);
}

/** The embedded default: one process executes every run and ingestion job, a bounded number at once. */
export class LocalRuntime implements Runtime {
  readonly scheduler: RunQueue;
  readonly ingestion: IngestionQueue;
  #stopSweeps = () => {};

  constructor(
    executor: RunExecutor,
    ingestionDeps: IngestionDeps,
    readonly options: { runConcurrency: number; expirySweepMs: number; log: Log },
  ) {
    this.scheduler = new RunQueue(executor, options.runConcurrency, options.log);
    this.ingestion = new IngestionQueue(ingestionDeps, INGESTION_CONCURRENCY, options.log);
  }

  async start(ctx: ServiceContext): Promise<void> {
    await recoverRuns(ctx);
    await recoverIngestion(ctx);
    this.#stopSweeps = every(this.options.expirySweepMs, 'expiry sweep', () => sweepExpired(ctx), this.options.log);
  }

  async close(): Promise<void> {
    this.#stopSweeps();
    await this.scheduler.close();
    await this.ingestion.close();
  }
}
