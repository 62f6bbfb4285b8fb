import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

/** An OpenAI-compatible chat-completions server. */
export interface OpenAIProviderConfig {
  type: 'openai';
  baseURL: string;
  apiKey: string;
}

/** Azure OpenAI: `{endpoint}/openai/deployments/{deployment}/chat/completions?api-version=`, key in `api-key`. */
export interface AzureProviderConfig {
  type: 'azure';
  endpoint: string;
  apiVersion: string;
  apiKey: string;
}

/** Anthropic's Messages API (`{baseURL}/v1/messages`). */
export interface AnthropicProviderConfig {
  type: 'anthropic';
  baseURL: string;
  apiKey: string;
}

export type ProviderConfig = OpenAIProviderConfig | AzureProviderConfig | AnthropicProviderConfig;

/**
 * Where a model name of the API goes: which provider, the model id to send it (on Azure, the
 * deployment), and what the model can do.
 */
export interface ModelRoute {
  provider: string;
  model: string;
  /** Azure: the deployment serving this model; defaults to the model id. */
  deployment: string;
  contextWindow: number;
  /** A reasoning model (max_completion_tokens, reasoning_effort, no sampling parameters); default: guessed from the name. */
  reasoning: boolean;
  /** false: the model takes no tools, and a run with tools fails before calling it. */
  tools: boolean;
  /** false: the server refuses `parallel_tool_calls`, so it is never sent. */
  parallelToolCalls: boolean;
}

export interface RetryConfig {
  maxRetries: number;
  initialDelayMs: number;
  maxDelayMs: number;
  requestTimeoutMs: number;
}

export interface StepwiseConfig {
  host: string;
  port: number;
  /** Every request needs an API key even while none exists (otherwise only once one does). */
  authRequired: boolean;
  /** Requests per minute per API key; 0: no limit. */
  rateLimitPerMinute: number;
  /** Runs a project may have queued or executing at once; 0: no limit. */
  maxActiveRunsPerProject: number;
  dataDir: string;
  databaseUrl: string | undefined;
  /** How long a worker's lease on a run lasts without a heartbeat (PostgreSQL deployments). */
  runLeaseMs: number;
  /** How often a worker with a free slot looks for ready runs it was not signalled (PostgreSQL deployments). */
  claimPollMs: number;
  providers: Record<string, ProviderConfig>;
  models: Record<string, Partial<ModelRoute>>;
  defaultProvider: string;
  defaultContextWindow: number;
  retry: RetryConfig;
  runExpirySeconds: number;
  expirySweepMs: number;
  runConcurrency: number;
  bodyLimitBytes: number;
  pollAfterMs: number;
  sseKeepaliveMs: number;
  /** code_interpreter: the most one call may run, and each session's memory and /mnt/data size. */
  codeTimeoutMs: number;
  codeMemoryLimitMb: number;
  codeDataLimitMb: number;
  /** code_interpreter: a thread's session closes after this long unused; live sessions per process. */
  codeIdleSeconds: number;
  codeMaxSessions: number;
  /** code_interpreter: interpreters kept started ahead, with numpy, pandas and matplotlib imported. */
  codeWarmPool: number;
  /** code_interpreter: the bubblewrap executable that jails each session. */
  codeBwrapPath: string;
  /** Largest file accepted by POST /files (and the most an upload may declare). */
  maxFileBytes: number;
  /** Total bytes of a project's files, and their number; 0: no limit. */
  maxProjectStorageBytes: number;
  maxProjectFiles: number;
  /** Model for `/embeddings` on the default provider; unset: file_search ranks by keywords alone. */
  embeddingModel: string | undefined;
}

/** Shape of the optional JSON file named by STEPWISE_CONFIG. */
interface ConfigFile {
  providers?: Record<string, Partial<Omit<OpenAIProviderConfig, 'type'> & Omit<AzureProviderConfig, 'type'>> & { type?: string }>;
  models?: Record<string, Partial<ModelRoute>>;
  defaultProvider?: string;
  defaultContextWindow?: number;
  retry?: Partial<RetryConfig>;
  runConcurrency?: number;
  embeddingModel?: string;
}

type Env = Record<string, string | undefined>;

function intFrom(env: Env, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) throw new Error(`${name} must be a non-negative integer, got "${raw}"`);
  return value;
}

function boolFrom(env: Env, name: string): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '' || raw === '0' || raw === 'false') return false;
  if (raw === '1' || raw === 'true') return true;
  throw new Error(`${name} must be "true" or "false", got "${raw}"`);
}

function providerFrom(name: string, provider: NonNullable<ConfigFile['providers']>[string]): ProviderConfig {
  const apiKey = provider.apiKey ?? 'not-set';
  const type = provider.type ?? 'openai';
  if (type === 'azure') {
    if (!provider.endpoint || !provider.apiVersion) throw new Error(`provider "${name}" in STEPWISE_CONFIG is of type azure and needs an endpoint and an apiVersion`);
    return { type, endpoint: provider.endpoint, apiVersion: provider.apiVersion, apiKey };
  }
  if (type !== 'openai' && type !== 'anthropic') throw new Error(`provider "${name}" in STEPWISE_CONFIG has unknown type "${type}" (openai, azure or anthropic)`);
  if (!provider.baseURL) throw new Error(`provider "${name}" in STEPWISE_CONFIG needs a baseURL`);
  return { type, baseURL: provider.baseURL, apiKey };
}

function checkCapabilities(model: string, route: Partial<ModelRoute>): void {
  for (const field of ['reasoning', 'tools', 'parallelToolCalls'] as const) {
    if (route[field] !== undefined && typeof route[field] !== 'boolean') throw new Error(`model "${model}" in STEPWISE_CONFIG: "${field}" must be true or false`);
  }
}

function readConfigFile(path: string | undefined): ConfigFile {
  if (!path) return {};
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as ConfigFile;
  } catch (error) {
    throw new Error(`cannot read STEPWISE_CONFIG file ${path}: ${(error as Error).message}`);
  }
}

/**
 * Every setting in one place. Environment variables win over the optional JSON file
 * (STEPWISE_CONFIG), which adds named providers and the model-name routing table.
 */
export function loadConfig(env: Env = process.env): StepwiseConfig {
  const file = readConfigFile(env.STEPWISE_CONFIG);
  const defaultProvider: ProviderConfig = {
    type: 'openai',
    baseURL: env.OPENAI_BASE_URL ?? file.providers?.default?.baseURL ?? 'https://api.openai.com/v1',
    apiKey: env.OPENAI_API_KEY ?? file.providers?.default?.apiKey ?? 'not-set',
  };
  const providers: Record<string, ProviderConfig> = { default: defaultProvider };
  for (const [name, provider] of Object.entries(file.providers ?? {})) {
    if (name === 'default') continue;
    providers[name] = providerFrom(name, provider);
  }
  const defaultProviderName = file.defaultProvider ?? 'default';
  if (!providers[defaultProviderName]) throw new Error(`defaultProvider "${defaultProviderName}" is not a configured provider`);
  for (const [model, route] of Object.entries(file.models ?? {})) {
    if (route.provider && !providers[route.provider]) {
      throw new Error(`model "${model}" routes to unknown provider "${route.provider}"`);
    }
    checkCapabilities(model, route);
  }
  return {
    host: env.HOST ?? '127.0.0.1',
    port: intFrom(env, 'PORT', 8080),
    authRequired: boolFrom(env, 'STEPWISE_AUTH_REQUIRED'),
    rateLimitPerMinute: intFrom(env, 'STEPWISE_RATE_LIMIT_RPM', 0),
    maxActiveRunsPerProject: intFrom(env, 'STEPWISE_MAX_ACTIVE_RUNS', 0),
    dataDir: resolve(env.STEPWISE_DATA_DIR ?? './data'),
    databaseUrl: env.DATABASE_URL || undefined,
    runLeaseMs: intFrom(env, 'STEPWISE_RUN_LEASE_MS', 15_000),
    claimPollMs: intFrom(env, 'STEPWISE_CLAIM_POLL_MS', 1_000),
    providers,
    models: file.models ?? {},
    defaultProvider: defaultProviderName,
    defaultContextWindow: file.defaultContextWindow ?? intFrom(env, 'STEPWISE_CONTEXT_WINDOW', 128_000),
    retry: {
      maxRetries: intFrom(env, 'STEPWISE_MODEL_MAX_RETRIES', file.retry?.maxRetries ?? 3),
      initialDelayMs: intFrom(env, 'STEPWISE_MODEL_RETRY_DELAY_MS', file.retry?.initialDelayMs ?? 500),
      maxDelayMs: file.retry?.maxDelayMs ?? 8_000,
      requestTimeoutMs: intFrom(env, 'STEPWISE_MODEL_TIMEOUT_MS', file.retry?.requestTimeoutMs ?? 120_000),
    },
    runExpirySeconds: intFrom(env, 'STEPWISE_RUN_EXPIRY_SECONDS', 600),
    expirySweepMs: intFrom(env, 'STEPWISE_EXPIRY_SWEEP_MS', 5_000),
    runConcurrency: file.runConcurrency ?? intFrom(env, 'STEPWISE_RUN_CONCURRENCY', 32),
    bodyLimitBytes: intFrom(env, 'STEPWISE_BODY_LIMIT_BYTES', 4 * 1024 * 1024),
    pollAfterMs: intFrom(env, 'STEPWISE_POLL_AFTER_MS', 500),
    sseKeepaliveMs: intFrom(env, 'STEPWISE_SSE_KEEPALIVE_MS', 15_000),
    codeTimeoutMs: intFrom(env, 'STEPWISE_CODE_TIMEOUT_MS', 60_000),
    codeMemoryLimitMb: intFrom(env, 'STEPWISE_CODE_MEMORY_MB', 1024),
    codeDataLimitMb: intFrom(env, 'STEPWISE_CODE_DATA_MB', 512),
    codeIdleSeconds: intFrom(env, 'STEPWISE_CODE_IDLE_SECONDS', 3600),
    codeMaxSessions: intFrom(env, 'STEPWISE_CODE_MAX_SESSIONS', 16),
    codeWarmPool: intFrom(env, 'STEPWISE_CODE_WARM_POOL', 2),
    codeBwrapPath: env.STEPWISE_CODE_BWRAP || '/usr/bin/bwrap',
    maxFileBytes: intFrom(env, 'STEPWISE_MAX_FILE_BYTES', 512 * 1024 * 1024),
    maxProjectStorageBytes: intFrom(env, 'STEPWISE_MAX_PROJECT_STORAGE_BYTES', 0),
    maxProjectFiles: intFrom(env, 'STEPWISE_MAX_PROJECT_FILES', 0),
    embeddingModel: env.STEPWISE_EMBEDDING_MODEL || file.embeddingModel || undefined,
  };
}
