/**
 * What authenticating a request costs: `Authenticator.projectFor` with a valid key, an unknown key
 * and no key (open mode), with the SQLite key cache on and off, in turns on the same database so
 * both see the same machine. On PostgreSQL (STEPWISE_TEST_DATABASE_URL set, under
 * .ci/with-postgres), where keys are read per request, the uncached figures for reference.
 * Usage: node_modules/.bin/node --import tsx bench/auth.ts [CALLS]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Kysely } from 'kysely';
import { Authenticator } from '../src/api/auth.js';
import { systemClock } from '../src/clock.js';
import { ApiKeys } from '../src/services/api-keys.js';
import { migrateToLatest, openDatabase } from '../src/store/database.js';
import type { Database } from '../src/store/schema.js';
import { sqliteDataVersion } from '../src/store/sqlite-data-version.js';
import { createThrowawayDatabase, TEST_DATABASE_URL } from '../test/support/test-database.js';

const calls = Number(process.argv[2] ?? 20_000);
const turns = 5;

function median(samples: number[]): number {
  return [...samples].sort((a, b) => a - b)[Math.floor(samples.length / 2)]!;
}

/** µs per call of `projectFor(authorization)` (a refusal included), the median of `turns` turns of `calls` calls. */
async function perCall(auth: Authenticator, authorization: string | undefined): Promise<number> {
  const samples: number[] = [];
  for (let turn = 0; turn < turns; turn++) {
    const start = performance.now();
    for (let i = 0; i < calls; i++) await auth.projectFor(authorization).catch(() => undefined);
    samples.push(((performance.now() - start) * 1000) / calls);
  }
  return median(samples);
}

async function compare(name: string, db: Kysely<Database>, variants: [string, ApiKeys][]): Promise<void> {
  await migrateToLatest(db);
  const auths = variants.map(([, keys]) => new Authenticator(keys, false));
  const open: number[] = [];
  for (const auth of auths) open.push(await perCall(auth, 'Bearer sk-anything'));
  const { secret } = await variants[0]![1].create('proj_bench');
  const cases: [string, string | undefined][] = [
    ['valid key', `Bearer ${secret}`],
    ['unknown key', 'Bearer sk-proj-unknown'],
    ['no key', undefined],
  ];
  console.log(`\n${name}: µs per Authenticator.projectFor, median of ${turns} turns of ${calls} calls`);
  console.log(`${''.padEnd(28)}${variants.map(([label]) => label.padStart(16)).join('')}`);
  console.log(`${'open mode (no key exists)'.padEnd(28)}${open.map((us) => us.toFixed(1).padStart(16)).join('')}`);
  for (const [label, authorization] of cases) {
    const figures: number[] = [];
    for (const auth of auths) figures.push(await perCall(auth, authorization));
    console.log(`${label.padEnd(28)}${figures.map((us) => us.toFixed(1).padStart(16)).join('')}`);
  }
}

const dataDir = mkdtempSync(join(tmpdir(), 'stepwise-bench-auth-'));
try {
  const sqlite = openDatabase({ dataDir, databaseUrl: undefined });
  await compare('SQLite', sqlite, [
    ['cache on', new ApiKeys(sqlite, systemClock, () => sqliteDataVersion(sqlite))],
    ['cache off', new ApiKeys(sqlite, systemClock)],
  ]);
  await sqlite.destroy();
  if (TEST_DATABASE_URL) {
    const database = await createThrowawayDatabase(TEST_DATABASE_URL);
    const postgres = openDatabase({ dataDir, databaseUrl: database.url });
    await compare('PostgreSQL', postgres, [['uncached', new ApiKeys(postgres, systemClock)]]);
    await postgres.destroy();
    await database.drop();
  } else {
    console.log('\n(no STEPWISE_TEST_DATABASE_URL: PostgreSQL skipped; run under .ci/with-postgres)');
  }
} finally {
  rmSync(dataDir, { recursive: true, force: true });
}
