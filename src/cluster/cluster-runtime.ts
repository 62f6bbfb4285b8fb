import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Kysely } from 'kysely';
import type pg from 'pg';
import { AbortRegistry } from '../engine/abort-registry.js';
import { sweepExpired } from '../engine/maintenance.js';
import type { RunExecutor, StopReason } from '../engine/run-executor.js';
import { every, INGESTION_CONCURRENCY, type Log, type Runtime } from '../engine/runtime.js';
import { prepareTakeover } from '../engine/takeover.js';
import type { AbortReason, IngestionScheduler, RunScheduler, ServiceContext } from '../services/context.js';
import { type IngestionDeps, type IngestionStopReason, ingestFile, ingestionKey } from '../services/ingestion.js';
import { type ClaimedColumn, Leases, type RowMatch } from '../store/leases.js';
import type { Database } from '../store/schema.js';
import {
  EXECUTING_RUN_STATUSES,
  parseRunForExecution,
  parseThreadHistory,
  RUN_FOR_EXECUTION_COLUMNS,
  type RunForExecutionRow,
  type RunRef,
  THREAD_HISTORY_COLUMNS,
  type ThreadHistoryRow,
  type VectorStoreFileRef,
} from '../store/store.js';
import { JobQueue } from './job-queue.js';
import type { PgChannels } from './pg-channel.js';

const CONTROL_CHANNEL = 'stepwise_control';

/** A run's claim reads the run and its thread, all its first model call needs. */
const CLAIMED_RUN_COLUMNS = [...RUN_FOR_EXECUTION_COLUMNS, ...THREAD_HISTORY_COLUMNS];

/** Asks whichever process executes a job to stop it. */
type Control = { kind: 'run'; key: string; reason: StopReason } | { kind: 'ingest'; key: string; reason: IngestionStopReason };

export type Role = 'api' | 'worker' | 'all';

export interface ClusterOptions {
  db: Kysely<Database>;
  pool: pg.Pool;
  channels: PgChannels;
  executor: RunExecutor;
  ingestionDeps: IngestionDeps;
  role: Role;
  runConcurrency: number;
  runLeaseMs: number;
  expirySweepMs: number;
  log: Log;
}

/**
 * Runs and ingestion on PostgreSQL deployments: every process enqueues jobs in graphile-worker;
 * worker processes execute them. A worker executes a run only under the run's lease, renewed by
 * heartbeat; when a worker dies its leases lapse and a sweep hands the runs to the others. Stops
 * (cancel, expiry, detach) reach the executing process through LISTEN/NOTIFY.
 */
export class ClusterRuntime implements Runtime {
  readonly scheduler: RunScheduler = {
    enqueue: (projectId, runId) => this.#enqueueRun({ projectId, runId }),
    queueing: (projectId, runId) => JobQueue.adding('stepwise_run', { projectId, runId } satisfies RunRef, runId),
    abort: (runId, reason) => this.#abortRun(runId, reason),
  };
  readonly ingestion: IngestionScheduler = {
    enqueue: (ref) => {
      this.queue.add('stepwise_ingest', ref, ingestionKey(ref)).catch((error) => this.options.log(`indexing ${ingestionKey(ref)} could not be queued`, error));
    },
    abort: (ref) => {
      const key = ingestionKey(ref);
      if (!this.#ingesting.abort(key, 'detached')) void this.#stopElsewhere({ kind: 'ingest', key, reason: 'detached' });
    },
  };
  readonly #runs = new AbortRegistry<StopReason>();
  readonly #ingesting = new AbortRegistry<IngestionStopReason>();
  readonly #runLeases: Leases;
  readonly #fileLeases: Leases;
  #stopSweeps: (() => void)[] = [];

  private constructor(
    readonly options: ClusterOptions,
    readonly queue: JobQueue,
  ) {
    // Names the process, so an operator (or a test) can tell which one executes a run.
    const owner = `${hostname()}/${process.pid}/${randomUUID().slice(0, 8)}`;
    this.#runLeases = new Leases(options.db, 'runs', owner, options.runLeaseMs);
    this.#fileLeases = new Leases(options.db, 'vector_store_files', owner, options.runLeaseMs);
  }

  static async connect(options: ClusterOptions): Promise<ClusterRuntime> {
    const runtime = new ClusterRuntime(options, await JobQueue.connect(options.db, options.pool, options.log));
    if (runtime.#works) await options.channels.listen(CONTROL_CHANNEL, (message) => runtime.#stopHere(message as Control));
    return runtime;
  }

  /** Whether this process executes jobs (an API-only process just queues them). */
  get #works(): boolean {
    return this.options.role !== 'api';
  }

  #enqueueRun(ref: RunRef): void {
    this.queue.add('stepwise_run', ref, ref.runId).catch((error) => {
      this.options.log(`run ${ref.runId} could not be queued; the orphan sweep will queue it`, error);
    });
  }

  async #abortRun(runId: string, reason: AbortReason): Promise<boolean> {
    if (this.#runs.abort(runId, reason)) return true;
    await this.#stopElsewhere({ kind: 'run', key: runId, reason });
    return this.#runLeases.isHeld({ id: runId });
  }

  /** A failed send is logged by the channel; the job then ends as its state in the store says. */
  #stopElsewhere(control: Control): Promise<void> {
    return this.options.channels.send(CONTROL_CHANNEL, control).catch(() => undefined);
  }

  #stopHere(control: Control): void {
    if (control.kind === 'run') this.#runs.abort(control.key, control.reason);
    else this.#ingesting.abort(control.key, control.reason);
  }

  async start(ctx: ServiceContext): Promise<void> {
    if (!this.#works) return;
    const { log, runLeaseMs, expirySweepMs, runConcurrency } = this.options;
    await this.queue.work({
      stepwise_run: { handler: (payload) => this.#execute(payload as RunRef), concurrency: runConcurrency },
      stepwise_ingest: { handler: (payload) => this.#ingest(payload as VectorStoreFileRef), concurrency: INGESTION_CONCURRENCY },
    });
    // Indexing jobs recover as runs do: the orphan sweep finds those no live worker holds.
    await this.#queueOrphans(ctx);
    this.#stopSweeps = [
      every(expirySweepMs, 'expiry sweep', () => sweepExpired(ctx), log),
      every(runLeaseMs / 2, 'orphan sweep', () => this.#queueOrphans(ctx), log),
    ];
  }

  /** Queues the runs and indexing jobs no live worker executes; the first worker to claim each one takes it over. */
  async #queueOrphans(ctx: ServiceContext): Promise<void> {
    const queuedBefore = Math.floor((ctx.clock.nowMs() - 4 * this.options.runLeaseMs) / 1000);
    for (const row of await this.#runLeases.orphans(['project_id', 'id'], ['queued', 'in_progress', 'cancelling'], 'queued', queuedBefore)) {
      this.#enqueueRun({ projectId: row.project_id!, runId: row.id! });
    }
    for (const row of await this.#fileLeases.orphans(['project_id', 'vector_store_id', 'id'], ['in_progress'], 'in_progress', queuedBefore)) {
      this.ingestion.enqueue({ projectId: row.project_id!, vectorStoreId: row.vector_store_id!, fileId: row.id! });
    }
  }

  #execute(ref: RunRef): Promise<void> {
    const row = { project_id: ref.projectId, id: ref.runId };
    return this.#leased<StopReason, RunForExecutionRow & ThreadHistoryRow>(this.#runLeases, row, CLAIMED_RUN_COLUMNS, this.#runs, ref.runId, async (signal, claimed) => {
      const { executor } = this.options;
      const takeovers = claimed.lease_takeovers;
      // A run that was never taken over needs no preparing, and starts from the row the claim read.
      if (takeovers > 0) {
        await prepareTakeover(executor.deps, ref, takeovers);
        await executor.execute(ref, signal);
        return false;
      }
      const found = parseRunForExecution(claimed);
      const status = await executor.executeFrom(ref.projectId, found, signal, { history: parseThreadHistory(claimed) });
      // Settled since the claim: the write that settled it, whoever made it, ended the lease.
      return EXECUTING_RUN_STATUSES.includes(found.run.status) && !EXECUTING_RUN_STATUSES.includes(status);
    });
  }

  #ingest(ref: VectorStoreFileRef): Promise<void> {
    const row = { project_id: ref.projectId, vector_store_id: ref.vectorStoreId, id: ref.fileId };
    return this.#leased(this.#fileLeases, row, [], this.#ingesting, ingestionKey(ref), async (signal, { lease_takeovers }) => {
      await ingestFile(this.options.ingestionDeps, ref, signal, lease_takeovers);
      return false;
    });
  }

  /**
   * Does a job's work while holding its lease, renewed by heartbeat; losing the lease stops the
   * work as a shutdown does. Does nothing while a live lease elsewhere holds the job. `work` gets
   * the row's `columns` as the claim read them, and resolves to whether its last write ended the
   * lease already (a run's settling write does), so that no release is sent.
   */
  async #leased<Reason extends string, Row extends Record<string, unknown> = Record<string, never>>(
    leases: Leases,
    row: RowMatch,
    columns: readonly ClaimedColumn[],
    registry: AbortRegistry<Reason | 'shutdown'>,
    key: string,
    work: (signal: AbortSignal, claimed: Row & { lease_takeovers: number }) => Promise<boolean>,
  ): Promise<void> {
    if (registry.has(key)) return;
    const claimed = await leases.claim<Row>(row, columns);
    if (claimed === undefined) return;
    const { signal, done } = registry.start(key);
    const heartbeat = setInterval(() => {
      leases.renew(row).then(
        (held) => held || registry.abort(key, 'shutdown'),
        (error) => this.options.log(`renewing the lease on ${key} failed`, error),
      );
    }, this.options.runLeaseMs / 3);
    let ended = false;
    try {
      ended = await work(signal, claimed);
    } finally {
      clearInterval(heartbeat);
      done();
      if (signal.reason === 'shutdown') await leases.relinquish(row);
      else if (!ended) await leases.release(row);
    }
  }

  async close(): Promise<void> {
    for (const stop of this.#stopSweeps) stop();
    this.#runs.abortAll('shutdown');
    this.#ingesting.abortAll('shutdown');
    await this.queue.close();
  }
}
