import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Kysely } from 'kysely';
import type pg from 'pg';
import { unixSeconds } from '../clock.js';
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
  type RunForExecution,
  type RunRef,
  startedByClaim,
  startingUnstartedRuns,
  THREAD_HISTORY_COLUMNS,
  type ThreadHistoryRow,
  type VectorStoreFileRef,
} from '../store/store.js';
import { JobQueue } from './job-queue.js';
import { PgChannels } from './pg-channel.js';

const CONTROL_CHANNEL = 'stepwise_control';
/** Signalled by the statement that makes a run ready for a worker, as it commits. */
const RUNS_CHANNEL = 'stepwise_runs';

/**
 * How long a worker that was signalled a run another worker took puts off claiming for the next
 * signals: every worker hears every signal, and claims that find the runs taken cost the database
 * and the worker a round trip each. The worker that took the run goes on claiming at once.
 */
const SIGNAL_QUIET_MS = 50;

/** A run's claim reads the run and its thread, all its first model call needs. */
const CLAIMED_RUN_COLUMNS = [...RUN_FOR_EXECUTION_COLUMNS, ...THREAD_HISTORY_COLUMNS, 'project_id'];

type ClaimedRun = RunForExecutionRow & ThreadHistoryRow & { project_id: string };

/**
 * How a job's work left the job, and so its lease: `settled` by a write that ended the lease too
 * (a run's), `done` for now (released), or `unfinished` (given up at once, so that the next claim
 * takes the job over from where it was cut off).
 */
type WorkEnd = 'settled' | 'done' | 'unfinished';

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
  /**
   * How often a worker with a free slot looks for runs it was not signalled about: a run whose
   * worker died (its lease lapsed), a signal lost with a dropped connection.
   */
  claimPollMs: number;
  expirySweepMs: number;
  log: Log;
}

/**
 * Runs and ingestion on PostgreSQL deployments; worker processes execute them. The runs table is
 * the run queue: a worker claims the oldest runs no live lease holds (new ones, and those whose
 * worker died) in one statement, when the statement that made a run ready signals it over
 * LISTEN/NOTIFY and every second besides, and executes each under its lease, renewed by heartbeat.
 * Indexing jobs go through graphile-worker, with the same leases. Stops (cancel, expiry, detach)
 * reach the executing process through LISTEN/NOTIFY.
 */
export class ClusterRuntime implements Runtime {
  readonly scheduler: RunScheduler = {
    enqueue: (projectId, runId) => this.#enqueueRun({ projectId, runId }),
    queueing: (runId) => PgChannels.signalling(RUNS_CHANNEL, runId),
    holding: () => this.#runLeases.holding(),
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
  /** Runs this process executes now, and each run's execution (with its lease's end). */
  #executing = 0;
  readonly #runExecutions = new Map<string, Promise<void>>();
  #claiming: Promise<void> | undefined;
  /** A signal came while a claim was under way: claim again after it. */
  #claimAgain = false;
  /** The runs signalled since the last claim began, while this process had a free slot. */
  #signalled = new Set<string>();
  /** Runs may be ready with no slot here to take them: a signal found every slot busy, or a claim filled them all. */
  #backlog = false;
  /** Until when signals wait (`SIGNAL_QUIET_MS`, by `performance.now()`), and the claim they wait for. */
  #quietUntil = 0;
  #afterQuiet: NodeJS.Timeout | undefined;
  #closed = false;

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

  /**
   * Makes the run ready for a worker: ends this process's hold on it, if it held it (`holding`),
   * and signals the workers. A lost signal costs a worker's next look, a second later.
   */
  #enqueueRun({ projectId, runId }: RunRef): void {
    const releasing = this.#runLeases.endingHold({ project_id: projectId, id: runId });
    this.options.db.with('released', () => releasing).selectNoFrom(PgChannels.signalling(RUNS_CHANNEL, runId).as('signalled')).execute().catch((error) => {
      this.options.log(`run ${runId} could not be signalled to the workers; the next look for runs will find it`, error);
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

  /**
   * A run's stop is kept for a lease's time when the run is not executing here: this process may
   * be about to execute it (its claim's answer not read yet), and a run's stops all end it for
   * good. An indexing job's stop is not kept: the file may be attached again under the same key.
   */
  #stopHere(control: Control): void {
    if (control.kind === 'run') this.#runs.abortOrKeep(control.key, control.reason, this.options.runLeaseMs);
    else this.#ingesting.abort(control.key, control.reason);
  }

  async start(ctx: ServiceContext): Promise<void> {
    if (!this.#works) return;
    const { log, runLeaseMs, claimPollMs, expirySweepMs, channels } = this.options;
    await this.queue.work({
      // Jobs a version before the runs table was the queue added: the run is in the table anyway.
      stepwise_run: { handler: async () => this.#claimRuns(), concurrency: 1 },
      stepwise_ingest: { handler: (payload) => this.#ingest(payload as VectorStoreFileRef), concurrency: INGESTION_CONCURRENCY },
    });
    await channels.listenForSignal(RUNS_CHANNEL, (runId) => this.#onSignal(runId));
    this.#claimRuns();
    await this.#queueOrphanFiles(ctx);
    this.#stopSweeps = [
      every(expirySweepMs, 'expiry sweep', () => sweepExpired(ctx), log),
      every(claimPollMs, 'look for runs', async () => this.#claimRuns(), log),
      every(runLeaseMs / 2, 'orphan sweep', () => this.#queueOrphanFiles(ctx), log),
    ];
  }

  /** Queues the indexing jobs no live worker executes; the first worker to claim each one takes it over. */
  async #queueOrphanFiles(ctx: ServiceContext): Promise<void> {
    const queuedBefore = Math.floor((ctx.clock.nowMs() - 4 * this.options.runLeaseMs) / 1000);
    for (const row of await this.#fileLeases.orphans(['project_id', 'vector_store_id', 'id'], ['in_progress'], 'in_progress', queuedBefore)) {
      this.ingestion.enqueue({ projectId: row.project_id!, vectorStoreId: row.vector_store_id!, fileId: row.id! });
    }
  }

  #onSignal(runId: string): void {
    if (this.#closed) return;
    if (this.#executing >= this.options.runConcurrency) {
      this.#backlog = true;
      return;
    }
    this.#signalled.add(runId);
    const wait = this.#quietUntil - performance.now();
    if (wait <= 0) return this.#claimRuns();
    this.#afterQuiet ??= setTimeout(() => {
      this.#afterQuiet = undefined;
      this.#claimRuns();
    }, wait);
  }

  /** Claims runs for this process's free slots, again while a claim fills them all or a signal came meanwhile. */
  #claimRuns(): void {
    if (this.#closed) return;
    if (this.#claiming) {
      this.#claimAgain = true;
      return;
    }
    this.#claiming = this.#claimWhileFree()
      .catch((error) => this.options.log('claiming runs failed', error))
      .finally(() => {
        this.#claiming = undefined;
        if (this.#claimAgain) this.#claimRuns();
      });
  }

  async #claimWhileFree(): Promise<void> {
    for (;;) {
      this.#claimAgain = false;
      const free = this.options.runConcurrency - this.#executing;
      if (this.#closed || free <= 0) return;
      const signalled = this.#signalled;
      this.#signalled = new Set();
      const startedAt = unixSeconds(this.options.executor.deps.clock);
      const claimed = await this.#runLeases.claimNext<ClaimedRun>(EXECUTING_RUN_STATUSES, free, CLAIMED_RUN_COLUMNS, startingUnstartedRuns(startedAt));
      this.#backlog = claimed.length === free;
      if (claimed.length === 0 && this.#tookNoneOf(signalled)) this.#quietUntil = performance.now() + SIGNAL_QUIET_MS;
      for (const row of claimed) {
        try {
          this.#startRun(row, startedAt);
        } catch (error) {
          // A row that cannot be read stays leased: it lapses, and the takeover limit ends it.
          this.options.log('a claimed run could not be read', error);
        }
      }
      if (claimed.length < free && !this.#claimAgain) return;
    }
  }

  /** Whether another worker took every run of these signals (this one may have, by an earlier claim). */
  #tookNoneOf(signalled: Set<string>): boolean {
    if (signalled.size === 0) return false;
    for (const runId of signalled) if (this.#runExecutions.has(runId)) return false;
    return true;
  }

  /**
   * Executes a claimed run. When this process's last execution of the run is still ending (it
   * paused the run, whose tool outputs came in before it was done), the claim waits for it, and
   * executes only if it still holds the lease then: an execution whose lease lapsed and was
   * claimed again here goes on by itself.
   */
  #startRun(claimed: ClaimedRun & { lease_takeovers: number }, startedAt: number): void {
    const found = parseRunForExecution(claimed);
    const ref = { projectId: claimed.project_id, runId: found.run.id };
    const row = { project_id: ref.projectId, id: ref.runId };
    const previous = this.#runExecutions.get(ref.runId);
    this.#executing++;
    const execution = (previous ? previous.then(() => this.#runLeases.renew(row)) : Promise.resolve(true))
      .then(async (held) => {
        if (!held) return;
        // Closed meanwhile: the run, not started here, goes back for another worker to claim.
        if (this.#closed) return await this.#runLeases.release(row);
        await this.#underLease<StopReason>(this.#runLeases, row, this.#runs, ref.runId, (signal) => this.#executeRun(ref, claimed, found, signal, startedAt));
      })
      .catch((error) => this.options.log(`run ${ref.runId} failed in its worker`, error))
      .finally(() => {
        if (this.#runExecutions.get(ref.runId) === execution) this.#runExecutions.delete(ref.runId);
        this.#executing--;
        // A slot freed matters only to a backlog: any other run ready now was signalled to a
        // process with a slot, or waits for the next look.
        if (this.#backlog) this.#claimRuns();
      });
    this.#runExecutions.set(ref.runId, execution);
  }

  /** `startedAt`: the claim's, for the runs it started (`startingUnstartedRuns`). */
  async #executeRun(ref: RunRef, claimed: ClaimedRun & { lease_takeovers: number }, found: RunForExecution, signal: AbortSignal, startedAt: number): Promise<WorkEnd> {
    const { executor } = this.options;
    const takeovers = claimed.lease_takeovers;
    // A run that was never taken over needs no preparing, and starts from the row the claim read.
    if (takeovers > 0) await prepareTakeover(executor.deps, ref, takeovers);
    const status =
      takeovers > 0
        ? await executor.execute(ref, signal)
        : await executor.executeFrom(ref.projectId, found, signal, { history: parseThreadHistory(claimed), started: startedByClaim(found.run, startedAt) });
    if (status === undefined) return 'done';
    // Stopped by a cancel, an expiry or a deletion: that actor's own write ends the run and the lease.
    // Given up now, the lease would let a claim take the run over (and discard its open work) first.
    if (signal.aborted) return 'settled';
    // Settled (or paused) since the claim: the write that did it, whoever made it, ended the lease.
    return EXECUTING_RUN_STATUSES.includes(status) ? 'unfinished' : 'settled';
  }

  #ingest(ref: VectorStoreFileRef): Promise<void> {
    const row = { project_id: ref.projectId, vector_store_id: ref.vectorStoreId, id: ref.fileId };
    return this.#leased(this.#fileLeases, row, [], this.#ingesting, ingestionKey(ref), async (signal, { lease_takeovers }) => {
      await ingestFile(this.options.ingestionDeps, ref, signal, lease_takeovers);
      return 'done';
    });
  }

  /** Claims the job's lease and does its work under it (`#underLease`); nothing while a live lease elsewhere holds the job. */
  async #leased<Reason extends string, Row extends Record<string, unknown> = Record<string, never>>(
    leases: Leases,
    row: RowMatch,
    columns: readonly ClaimedColumn[],
    registry: AbortRegistry<Reason | 'shutdown'>,
    key: string,
    work: (signal: AbortSignal, claimed: Row & { lease_takeovers: number }) => Promise<WorkEnd>,
  ): Promise<void> {
    if (registry.has(key)) return;
    const claimed = await leases.claim<Row>(row, columns);
    if (claimed === undefined) return;
    await this.#underLease(leases, row, registry, key, (signal) => work(signal, claimed));
  }

  /**
   * Does a job's work while holding the lease just claimed, renewed by heartbeat; losing the lease
   * stops the work as a shutdown does. `work` resolves to how it left the job (`WorkEnd`), which
   * says what becomes of the lease. Nothing when this process is doing the job already.
   */
  async #underLease<Reason extends string>(
    leases: Leases,
    row: RowMatch,
    registry: AbortRegistry<Reason | 'shutdown'>,
    key: string,
    work: (signal: AbortSignal) => Promise<WorkEnd>,
  ): Promise<void> {
    if (registry.has(key)) return;
    const { signal, done } = registry.start(key);
    const heartbeat = setInterval(() => {
      leases.renew(row).then(
        (held) => held || registry.abort(key, 'shutdown'),
        (error) => this.options.log(`renewing the lease on ${key} failed`, error),
      );
    }, this.options.runLeaseMs / 3);
    let end: WorkEnd = 'done';
    try {
      end = await work(signal);
    } finally {
      clearInterval(heartbeat);
      done();
      if (signal.reason === 'shutdown' || end === 'unfinished') await leases.relinquish(row);
      else if (end === 'done') await leases.release(row);
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#afterQuiet);
    for (const stop of this.#stopSweeps) stop();
    this.#runs.abortAll('shutdown');
    this.#ingesting.abortAll('shutdown');
    await this.#claiming;
    // Each execution ends by giving up its lease, so that another worker takes the run over at once.
    await Promise.all(this.#runExecutions.values());
    await this.queue.close();
  }
}
