import { join } from 'node:path';
import { Readable } from 'node:stream';
import { createApp } from './api/app.js';
import { Authenticator, isLoopback } from './api/auth.js';
import { RunEventStreams } from './api/sse.js';
import { LocalBlobStore } from './blobs/blob-store.js';
import { type Clock, systemClock } from './clock.js';
import type { StepwiseConfig } from './config.js';
import { IngestionQueue } from './engine/ingestion-queue.js';
import { recoverRuns, sweepExpiredRuns } from './engine/maintenance.js';
import { RunExecutor } from './engine/run-executor.js';
import { RunQueue } from './engine/run-queue.js';
import { EventBus } from './events.js';
import { createEmbedder } from './providers/embeddings.js';
import { ModelRegistry } from './providers/registry.js';
import { ApiKeys } from './services/api-keys.js';
import type { ServiceContext } from './services/context.js';
import { createServices } from './services/index.js';
import { recoverIngestion } from './services/ingestion.js';
import { migrateToLatest, openDatabase } from './store/database.js';
import { Store } from './store/store.js';
import { FileSearchIndex } from './tools/file-search/index.js';
import { HostedTools } from './engine/hosted-tools.js';
import { PythonSandbox } from './tools/code-interpreter/sandbox.js';
import { CodeSessions } from './tools/code-interpreter/sessions.js';

export interface StepwiseOptions {
  config: StepwiseConfig;
  clock?: Clock;
  logger?: boolean;
}

export interface Stepwise {
  /** The base URL of the API once listening, e.g. `http://127.0.0.1:8080/v1`. */
  url: string;
  apiKeys: ApiKeys;
  /** Whether requests need an API key now: once any key is active, or always when configured. */
  authRequired(): Promise<boolean>;
  /** Runs one expiry sweep now (it also runs on a timer). */
  sweepExpiredRuns(): Promise<number>;
  close(): Promise<void>;
}

/** Files indexed at once; each holds a file's bytes and its embedding requests. */
const INGESTION_CONCURRENCY = 4;

/** A run's Python session outlives pauses for tool outputs, but not this long unused. */
const CODE_SESSION_IDLE_MS = 10 * 60_000;

/** Opens the store, recovers runs left by a previous process, and serves the API. */
export async function startStepwise({ config, clock = systemClock, logger = false }: StepwiseOptions): Promise<Stepwise> {
  const db = openDatabase(config);
  await migrateToLatest(db);
  const apiKeys = new ApiKeys(db, clock);
  // Without keys every caller can reach every object: only processes on this machine may be callers.
  if (!isLoopback(config.host) && !(await apiKeys.anyActive())) {
    await db.destroy();
    throw new Error(
      `HOST is ${config.host}, but no API keys exist, so anyone who can reach the server could use it. ` +
        'Create a key with `stepwise keys create --project <id>`, or listen on 127.0.0.1.',
    );
  }
  const auth = new Authenticator(apiKeys, config.authRequired || !isLoopback(config.host));
  const store = new Store(db);
  const bus = new EventBus();
  const log = (message: string, error?: unknown) => console.error(`[stepwise] ${message}`, error ?? '');
  const fileSearch = new FileSearchIndex(db, createEmbedder(config));
  const blobs = new LocalBlobStore(join(config.dataDir, 'blobs'));
  const codeSessions = new CodeSessions(
    () => PythonSandbox.start({ timeoutMs: config.codeTimeoutMs, memoryLimitMb: config.codeMemoryLimitMb }),
    CODE_SESSION_IDLE_MS,
  );
  const hostedTools = new HostedTools({
    store,
    blobs,
    fileSearch,
    codeSessions,
    saveOutputFile: async (projectId, filename, bytes) =>
      services.files.create(projectId, { filename, purpose: 'assistants_output' }, await services.files.stage(Readable.from([Buffer.from(bytes)]))),
  });
  const executor = new RunExecutor({ store, bus, clock, models: new ModelRegistry(config), hostedTools, blobs, log });
  const queue = new RunQueue(executor, config.runConcurrency, log);
  const ingestion = new IngestionQueue({ store, blobs, fileSearch }, INGESTION_CONCURRENCY, log);
  const ctx: ServiceContext = { store, clock, bus, scheduler: queue, blobs, config, fileSearch, ingestion };
  const services = createServices(ctx);
  const app = createApp({ services, auth, streams: new RunEventStreams(bus, config.sseKeepaliveMs) }, {
    bodyLimitBytes: config.bodyLimitBytes,
    logger,
    pollAfterMs: config.pollAfterMs,
    rateLimitPerMinute: config.rateLimitPerMinute,
  });

  await recoverRuns(ctx);
  await recoverIngestion(ctx);
  const sweep = () => sweepExpiredRuns(ctx);
  const timer = setInterval(() => void sweep().catch((error) => log('expiry sweep failed', error)), config.expirySweepMs);
  timer.unref();

  const address = await app.listen({ host: config.host, port: config.port });
  return {
    url: `${address}/v1`,
    apiKeys,
    authRequired: () => auth.required(),
    sweepExpiredRuns: sweep,
    async close() {
      clearInterval(timer);
      await queue.close();
      await ingestion.close();
      await codeSessions.closeAll();
      await app.close();
      await db.destroy();
    },
  };
}
