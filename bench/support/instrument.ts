/**
 * Loaded into a benchmarked `stepwise serve` process with `--import`, never into the server itself:
 * counts what the process asks of its database (SQLite statements, commits and WAL bytes; PostgreSQL
 * round trips) and the CPU it uses. On SIGUSR2 it writes a snapshot of the counters to the file
 * named by STEPWISE_BENCH_STATS, so a benchmark can take the difference over its measured load.
 */
import { openSync, readSync, writeFileSync } from 'node:fs';
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
      const result = original.apply(this, args);
      if (commits(this)) {
        stats.commits++;
        countWal(this.database);
      }
      return result;
    };
  }
}

// WAL frames are counted after every commit from the frame count in the WAL index (the -shm
// file's header), which a commit that restarts the WAL after a checkpoint resets; only the
// serving connection writes frames, so the difference from one commit to the next is what it wrote.
const walIndexes = new Map<string, { fd: number; frames: number; frameBytes: number }>();
const header = Buffer.alloc(4);
const MAX_FRAME_OFFSET = 16;

function countWal(database: SQLite.Database): void {
  if (database.memory || !database.name) return;
  let index = walIndexes.get(database.name);
  if (!index) {
    const pageSize = database.pragma('page_size', { simple: true }) as number;
    index = { fd: openSync(`${database.name}-shm`, 'r'), frames: 0, frameBytes: pageSize + 24 };
    walIndexes.set(database.name, index);
  }
  readSync(index.fd, header, 0, 4, MAX_FRAME_OFFSET);
  const frames = header.readUInt32LE(0);
  stats.walBytes += (frames >= index.frames ? frames - index.frames : frames) * index.frameBytes;
  index.frames = frames;
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

// process.cpuUsage() covers every thread of the process, the WAL checkpoint thread's too.
process.on('SIGUSR2', () => {
  const { user, system } = process.cpuUsage();
  stats.seq++;
  stats.cpuMs = (user + system) / 1000;
  writeFileSync(statsFile, JSON.stringify(stats));
});
