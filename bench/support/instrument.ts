/**
 * Loaded into a benchmarked `stepwise serve` process with `--import`, never into the server itself:
 * counts what the process asks of its database (SQLite statements, commits and WAL bytes; PostgreSQL
 * round trips) and the CPU it uses. On SIGUSR2 it writes a snapshot of the counters to the file
 * named by STEPWISE_BENCH_STATS, so a benchmark can take the difference over its measured load.
 */
import { writeFileSync } from 'node:fs';
import { isMainThread } from 'node:worker_threads';
import SQLite from 'better-sqlite3';
import pg from 'pg';

export interface ProcessStats {
  /** Snapshots taken so far, this one included. */
  seq: number;
  cpuMs: number;
  statements: number;
  commits: number;
  walBytes: number;
  roundTrips: number;
}

const statsFile = process.env.STEPWISE_BENCH_STATS;
if (!statsFile) throw new Error('bench/support/instrument.ts needs STEPWISE_BENCH_STATS');

const stats: ProcessStats = { seq: 0, cpuMs: 0, statements: 0, commits: 0, walBytes: 0, roundTrips: 0 };

type Statement = SQLite.Statement<unknown[]>;
const countedPrototypes = new WeakSet<object>();
const prepare = SQLite.prototype.prepare;

/** A COMMIT, or a write outside any transaction (which SQLite commits by itself). */
function commits(statement: Statement): boolean {
  if (/^\s*commit\b/i.test(statement.source)) return true;
  return !statement.reader && !statement.database.inTransaction && !/^\s*(begin|savepoint|release|rollback|pragma)\b/i.test(statement.source);
}

function countExecutions(statement: Statement): void {
  const prototype = Object.getPrototypeOf(statement) as Record<'run' | 'get' | 'all' | 'iterate', (this: Statement, ...args: unknown[]) => unknown>;
  if (countedPrototypes.has(prototype)) return;
  countedPrototypes.add(prototype);
  for (const method of ['run', 'get', 'all', 'iterate'] as const) {
    const original = prototype[method];
    prototype[method] = function (this: Statement, ...args: unknown[]) {
      stats.statements++;
      if (commits(this)) stats.commits++;
      return original.apply(this, args);
    };
  }
}

// WAL frames are counted where Stepwise's checkpoint thread resets the WAL: there, its PASSIVE
// checkpoints become RESTART ones, after which the next commit starts the WAL afresh, so the frames
// a checkpoint reports were each written once. The count reaches the main thread by broadcast.
const walFrames = new BroadcastChannel('stepwise-bench-wal-frames');
if (isMainThread) {
  walFrames.onmessage = (event) => (stats.walBytes += (event as { data: number }).data);
  walFrames.unref();
} else {
  const pragma = SQLite.prototype.pragma;
  SQLite.prototype.pragma = function (this: SQLite.Database, source: string, options?: SQLite.PragmaOptions) {
    if (!/^wal_checkpoint\(PASSIVE\)$/i.test(source)) return pragma.call(this, source, options);
    const pageSize = pragma.call(this, 'page_size', { simple: true }) as number;
    const result = pragma.call(this, 'wal_checkpoint(RESTART)') as { busy: number; log: number }[];
    const [{ busy, log }] = result as [{ busy: number; log: number }];
    if (busy === 0 && log > 0) walFrames.postMessage(log * (pageSize + 24));
    return result;
  } as typeof SQLite.prototype.pragma;
}

SQLite.prototype.prepare = function (this: SQLite.Database, ...args: unknown[]) {
  const statement = (prepare as (...a: unknown[]) => Statement).apply(this, args);
  countExecutions(statement);
  return statement;
} as typeof SQLite.prototype.prepare;

const query = pg.Client.prototype.query;
pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
  stats.roundTrips++;
  return (query as (...a: unknown[]) => unknown).apply(this, args);
} as typeof pg.Client.prototype.query;

// process.cpuUsage() covers every thread of the process, the checkpoint thread's too.
if (isMainThread) {
  process.on('SIGUSR2', () => {
    const { user, system } = process.cpuUsage();
    stats.seq++;
    stats.cpuMs = (user + system) / 1000;
    writeFileSync(statsFile, JSON.stringify(stats));
  });
}
