import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import OpenAI from 'openai';
import type { Clock } from '../../src/clock.js';
import { loadConfig } from '../../src/config.js';
import { startStepwise, type Stepwise } from '../../src/server.js';
import { specSchemas } from '../../src/spec/openapi.js';
import { ScriptedModel } from './scripted-model.js';
import { createThrowawayDatabase, TEST_DATABASE_URL } from './test-database.js';

/** A clock that tests move by hand. */
export class ManualClock implements Clock {
  #ms = Date.UTC(2026, 0, 1);
  nowMs(): number {
    return this.#ms;
  }
  advanceSeconds(seconds: number): void {
    this.#ms += seconds * 1000;
  }
}

export interface Harness {
  model: ScriptedModel;
  stepwise: Stepwise;
  client: OpenAI;
  dataDir: string;
  env: Record<string, string>;
  /** Stops the server and starts a new one on the same data directory. */
  restart(): Promise<void>;
  close(): Promise<void>;
}

export interface HarnessOptions {
  clock?: Clock;
  env?: Record<string, string>;
}

/**
 * A real Stepwise on loopback, over a fresh database (a SQLite file, or a throwaway PostgreSQL
 * database when the suite runs on PostgreSQL), calling a scripted model over HTTP.
 */
export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const model = await ScriptedModel.start();
  const dataDir = mkdtempSync(join(tmpdir(), 'stepwise-test-'));
  const database = TEST_DATABASE_URL ? await createThrowawayDatabase(TEST_DATABASE_URL) : undefined;
  const env = {
    PORT: '0',
    STEPWISE_DATA_DIR: dataDir,
    ...(database && { DATABASE_URL: database.url }),
    OPENAI_BASE_URL: model.url,
    OPENAI_API_KEY: 'test-key',
    STEPWISE_MODEL_RETRY_DELAY_MS: '10',
    STEPWISE_POLL_AFTER_MS: '20',
    // Pre-started Python interpreters cost CPU; the code_interpreter tests ask for them.
    STEPWISE_CODE_WARM_POOL: '0',
    ...options.env,
  };
  const start = () => startStepwise({ config: loadConfig(env), ...(options.clock && { clock: options.clock }) });
  let stepwise = await start();
  const clientFor = (url: string) => new OpenAI({ baseURL: url, apiKey: 'sk-test', maxRetries: 0 });
  const harness: Harness = {
    model,
    stepwise,
    client: clientFor(stepwise.url),
    dataDir,
    env,
    async restart() {
      await harness.stepwise.close();
      stepwise = await start();
      harness.stepwise = stepwise;
      harness.client = clientFor(stepwise.url);
    },
    async close() {
      await harness.stepwise.close();
      await model.close();
      await database?.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return harness;
}

/** Fails with every difference between `value` and the spec's schema `schemaName`. */
export function assertMatchesSpec(schemaName: string, value: unknown): void {
  const violations = specSchemas().allViolations(schemaName, value);
  assert.deepEqual(violations, [], `${schemaName} does not match the spec: ${JSON.stringify(value)}`);
}

/**
 * Polls until `check` returns a value, for effects that happen in the background. It returns as soon
 * as the effect shows; the bound is sized for a loaded CI machine, where indexing a small file or
 * starting a worker thread can take many seconds while other jobs hold the cores.
 */
export async function eventually<T>(check: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(10);
  }
}
