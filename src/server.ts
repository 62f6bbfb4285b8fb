import { join } from 'node:path';
import { Readable } from 'node:stream';
import { createApp } from './api/app.js';
import { Authenticator, isLoopback } from './api/auth.js';
import { RunEventStreams } from './api/sse.js';
import { LocalBlobStore } from './blobs/blob-store.js';
import { type Clock, systemClock } from './clock.js';
import type { StepwiseConfig } from './config.js';
import { ClusterRuntime, type Role } from './cluster/cluster-runtime.js';
import { PgChannels } from './cluster/pg-channel.js';
import { PgEventBus } from './cluster/pg-event-bus.js';
import { sweepExpired } from './engine/maintenance.js';
import { RunExecutor } from './engine/run-executor.js';
import { countTokens } from './engine/tokens.js';
import { LocalRuntime, type Runtime } from './engine/runtime.js';
import { EventBus } from './events.js';
import { createEmbedder } from './providers/embeddings.js';
import { ModelRegistry } from './providers/registry.js';
import { ApiKeys } from './services/api-keys.js';
import type { ServiceContext } from './services/context.js';
import { createServices } from './services/index.js';
import { migrateToLatest, openDatabase, openPostgresPool } from './store/database.js';
import { sqliteDataVersion } from './store/sqlite-data-version.js';
import { Store } from './store/store.js';
import { FileSearchIndex } from './tools/file-search/index.js';
import { HostedTools } from './engine/hosted-tools.js';
import { Interpreters } from './tools/code-interpreter/interpreters.js';
import { CodeSessions } from './tools/code-interpreter/sessions.js';

export interface StepwiseOptions {
  config: StepwiseConfig;
  clock?: Clock;
  logger?: boolean;
  /** What this process does: serve the API, execute runs and ingestion, or both (the default). */
  role?: Role;
}

export interface Stepwise {
  /** The base URL of the API once listening, e.g. `http://127.0.0.1:8080/v1`; empty for a worker. */
  url: string;
  apiKeys: ApiKeys;
  /** Whether requests need an API key now: once any key is active, or always when configured. */
  authRequired(): Promise<boolean>;
  /** Runs one expiry sweep (runs, files, uploads) now; it also runs on a timer. */
  sweepExpired(): Promise<void>;
  /** What the code_interpreter sandbox can do on this host, for the start-up log. */
  codeInterpreterStatus(): Promise<string>;
  close(): Promise<void>;
}

/** Each process of a jailed Python session may use this much CPU over its life; a call's own limit is its wall-clock time. */
const CODE_CPU_SECONDS = 3600;
const CODE_PROCESSES = 128;
const CODE_OPEN_FILES = 1024;

/**
 * Opens the store, recovers runs left by a previous process, and serves the API. On PostgreSQL a
 * process may take one role; on SQLite one process does everything.
 */
export async function startStepwise({ config, clock = systemClock, logger = false, role = 'all' }: StepwiseOptions): Promise<Stepwise> {
  const postgresUrl = config.databaseUrl;
  if (!postgresUrl && role !== 'all') throw new Error(`--role ${role} needs DATABASE_URL=postgres://…: with SQLite one process serves and executes.`);
  const pool = postgresUrl ? openPostgresPool(postgresUrl) : undefined;
  const db = openDatabase(config, pool);
  await migrateToLatest(db);
  // On PostgreSQL nothing tells at once of a change another process made, so keys are read per request.
  const apiKeys = new ApiKeys(db, clock, pool ? undefined : () => sqliteDataVersion(db));
  const serves = role !== 'worker';
  // Without keys every caller can reach every object: only processes on this machine may be callers.
  if (serves && !isLoopback(config.host) && !(await apiKeys.anyActive())) {
    await db.destroy();
    throw new Error(
      `HOST is ${config.host}, but no API keys exist, so anyone who can reach the server could use it. ` +
        'Create a key with `stepwise keys create --project <id>`, or listen on 127.0.0.1.',
    );
  }
  const auth = new Authenticator(apiKeys, config.authRequired || !isLoopback(config.host));
  const store = new Store(db);
  const log = (message: string, error?: unknown) => console.error(`[stepwise] ${message}`, error ?? '');
  const channels = postgresUrl ? await PgChannels.connect(postgresUrl, log) : undefined;
  const bus = channels ? await PgEventBus.start(channels, serves) : new EventBus();
  const fileSearch = new FileSearchIndex(db, createEmbedder(config));
  const blobs = new LocalBlobStore(join(config.dataDir, 'blobs'));
  const interpreters = new Interpreters({
    bwrap: config.codeBwrapPath,
    timeoutMs: config.codeTimeoutMs,
    limits: { memoryMb: config.codeMemoryLimitMb, dataMb: config.codeDataLimitMb, cpuSeconds: CODE_CPU_SECONDS, processes: CODE_PROCESSES, openFiles: CODE_OPEN_FILES },
    warmPoolSize: config.codeWarmPool,
  });
  const codeSessions = new CodeSessions(interpreters, {
    clock,
    idleMs: config.codeIdleSeconds * 1000,
    maxSessions: config.codeMaxSessions,
    threadExists: async (projectId, threadId) => (await store.threads.get(projectId, threadId)) !== undefined,
  });
  // Only processes that execute runs start interpreters; the pool warms while the server starts.
  if (role !== 'api' && config.codeWarmPool > 0) interpreters.warmUp();
  const hostedTools = new HostedTools({
    store,
    blobs,
    fileSearch,
    codeSessions,
    saveOutputFile: async (projectId, filename, bytes) =>
      services.files.create(projectId, { filename, purpose: 'assistants_output' }, await services.files.stage(Readable.from([Buffer.from(bytes)]))),
  });
  const executor = new RunExecutor({ store, bus, clock, models: new ModelRegistry(config), hostedTools, blobs, log });
  const ingestionDeps = { store, blobs, fileSearch };
  const { runConcurrency, runLeaseMs, claimPollMs, expirySweepMs } = config;
  const runtime: Runtime = pool && channels
    ? await ClusterRuntime.connect({ db, pool, channels, executor, ingestionDeps, role, runConcurrency, runLeaseMs, claimPollMs, expirySweepMs, log })
    : new LocalRuntime(executor, ingestionDeps, { runConcurrency, expirySweepMs, log });
  const ctx: ServiceContext = { store, clock, bus, scheduler: runtime.scheduler, blobs, config, fileSearch, ingestion: runtime.ingestion };
  const services = createServices(ctx);
  const app = createApp({ services, auth, streams: new RunEventStreams(bus, config.sseKeepaliveMs) }, {
    bodyLimitBytes: config.bodyLimitBytes,
    logger,
    pollAfterMs: config.pollAfterMs,
    rateLimitPerMinute: config.rateLimitPerMinute,
  });

  // Loading the tokenizer blocks for about a second: better at start than in the first run it counts.
  if (role !== 'api') countTokens('');
  await runtime.start(ctx);
  const address = serves ? await app.listen({ host: config.host, port: config.port }) : undefined;
  return {
    url: address ? `${address}/v1` : '',
    apiKeys,
    authRequired: () => auth.required(),
    sweepExpired: () => sweepExpired(ctx),
    codeInterpreterStatus: async () => (role === 'api' ? 'code_interpreter runs on the worker processes' : (await interpreters.status()).summary),
    async close() {
      await runtime.close();
      await codeSessions.closeAll();
      await interpreters.close();
      await fileSearch.close();
      await app.close();
      await channels?.close();
      await db.destroy();
    },
  };
}
