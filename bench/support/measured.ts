import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { StepwiseProcess } from '../../test/support/processes.js';
import { spawnStepwise } from '../../test/support/processes.js';
import { createThrowawayDatabase } from '../../test/support/test-database.js';
import type { ProcessStats } from './instrument.js';

const INSTRUMENT = new URL('./instrument.ts', import.meta.url).pathname;

export type Counters = Omit<ProcessStats, 'seq'>;

/** `stepwise serve` in its own process, with the counters of `instrument.ts` in it. */
export interface MeasuredProcess extends StepwiseProcess {
  counters(): Promise<Counters>;
}

export async function spawnMeasured(env: Record<string, string>, statsFile: string, role?: 'api' | 'worker' | 'all'): Promise<MeasuredProcess> {
  const child = await spawnStepwise({ ...env, STEPWISE_BENCH_STATS: statsFile }, role, ['--import', INSTRUMENT]);
  let seq = 0;
  return {
    ...child,
    async counters() {
      child.child.kill('SIGUSR2');
      for (let waited = 0; waited < 10_000; waited += 10) {
        await sleep(10);
        const stats = (() => {
          try {
            return JSON.parse(readFileSync(statsFile, 'utf8')) as ProcessStats;
          } catch {
            return undefined;
          }
        })();
        if (stats && stats.seq > seq) {
          seq = stats.seq;
          const { seq: _, ...counters } = stats;
          return counters;
        }
      }
      throw new Error(`no counters from the process writing ${statsFile}`);
    },
  };
}

/** What a set of processes used between two readings, summed over them. */
export function difference(before: Counters[], after: Counters[]): Counters {
  const total: Counters = { cpuMs: 0, statements: 0, commits: 0, walBytes: 0, roundTrips: 0 };
  after.forEach((reading, i) => {
    for (const key of Object.keys(total) as (keyof Counters)[]) total[key] += reading[key] - before[i]![key];
  });
  return total;
}

/** What a deployment's processes used, summed, and what its first process (the API) used of it. */
export interface Usage extends Counters {
  api: Counters;
}

/** Stepwise as separate processes: SQLite in one (`workers` 0), or PostgreSQL with one API process and `workers`. */
export interface Deployment {
  url: string;
  /** What every process of the deployment used since the last call (or since it started). */
  usedSinceLast(): Promise<Usage>;
  close(): Promise<void>;
}

export async function deploy(modelUrl: string, workers: number, postgresUrl: string | undefined): Promise<Deployment> {
  const dataDir = mkdtempSync(join(tmpdir(), 'stepwise-bench-'));
  const database = workers > 0 ? await createThrowawayDatabase(postgresUrl!) : undefined;
  const env = { STEPWISE_DATA_DIR: dataDir, OPENAI_BASE_URL: modelUrl, OPENAI_API_KEY: 'k', STEPWISE_POLL_AFTER_MS: '1', ...(database && { DATABASE_URL: database.url }) };
  const stats = (name: string) => join(dataDir, `${name}.stats.json`);
  const api = await spawnMeasured(env, stats('api'), database ? 'api' : 'all');
  const processes = [api, ...(await Promise.all(Array.from({ length: workers }, (_, i) => spawnMeasured(env, stats(`worker-${i}`), 'worker'))))];
  let last = await Promise.all(processes.map((p) => p.counters()));
  return {
    url: api.url,
    async usedSinceLast() {
      const now = await Promise.all(processes.map((p) => p.counters()));
      const used = { ...difference(last, now), api: difference(last.slice(0, 1), now.slice(0, 1)) };
      last = now;
      return used;
    },
    async close() {
      await Promise.all(processes.map((p) => p.kill()));
      await database?.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Per-run figures of what a deployment used over `runs` runs: SQLite's statements or PostgreSQL's round trips. */
export function perRun(used: Counters, runs: number): string {
  const parts = [`server CPU ${(used.cpuMs / runs).toFixed(2)} ms`];
  if (used.statements > 0) {
    parts.push(`${(used.statements / runs).toFixed(1)} statements`, `${(used.commits / runs).toFixed(1)} commits`, `WAL ${(used.walBytes / runs / 1024).toFixed(1)} KB`);
  }
  if (used.roundTrips > 0) parts.push(`${(used.roundTrips / runs).toFixed(1)} round trips`);
  return parts.join(', ');
}
