/**
 * Completed runs per second and time to first token with many runs in flight, through Stepwise run
 * as separate processes: SQLite (one process), and PostgreSQL (one API process with 1, 2 and 4
 * worker processes), against the scripted model server called directly as the baseline, in one
 * run. The PostgreSQL rows need STEPWISE_TEST_DATABASE_URL: run it under .ci/with-postgres.
 * Usage: npm run bench:scale-out [-- RUNS CONCURRENCY]
 */
import { performance } from 'node:perf_hooks';
import OpenAI from 'openai';
import { ScriptedModel } from '../test/support/scripted-model.js';
import { TEST_DATABASE_URL } from '../test/support/test-database.js';
import { type Deployment, deploy, difference, perRun, type Usage } from './support/measured.js';

const runs = Number(process.argv[2] ?? 400);
const concurrency = Number(process.argv[3] ?? 32);
/**
 * Runs before the measured ones, for each process that executes runs: each process compiles its
 * hot code itself, so a warm-up split between four workers leaves each of them colder.
 */
const warmupPerExecutor = 200;

function percentile(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

interface Result {
  name: string;
  runsPerSecond: number;
  ttftP50: number;
  ttftP99: number;
  failed: number;
  /** What the Stepwise processes used over the measured runs. */
  used?: Usage;
}

const model = await ScriptedModel.start();
const reply = { text: ['Hello', ' there'] };

/** `count` requests, `concurrency` in flight at once; each resolves to its time to first token, or undefined if it failed. */
async function load(count: number, request: () => Promise<number | undefined>): Promise<{ seconds: number; ttfts: number[]; failed: number }> {
  model.script(...Array.from({ length: count }, () => reply));
  const ttfts: number[] = [];
  let failed = 0;
  let next = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        next++;
        const ttft = await request().catch(() => undefined);
        if (ttft === undefined) failed++;
        else ttfts.push(ttft);
      }
    }),
  );
  return { seconds: (performance.now() - start) / 1000, ttfts, failed };
}

async function measure(name: string, request: () => Promise<number | undefined>, executors: number, deployment?: Deployment): Promise<Result> {
  await load(warmupPerExecutor * executors, request);
  await deployment?.usedSinceLast();
  const { seconds, ttfts, failed } = await load(runs, request);
  const used = await deployment?.usedSinceLast();
  return { name, runsPerSecond: (runs - failed) / seconds, ttftP50: percentile(ttfts, 50), ttftP99: percentile(ttfts, 99), failed, ...(used && { used }) };
}

function directRequest(client: OpenAI) {
  return async () => {
    const start = performance.now();
    let first: number | undefined;
    const stream = await client.chat.completions.create({ model: 'bench-model', messages: [{ role: 'user', content: 'Hi' }], stream: true });
    for await (const chunk of stream) if (first === undefined && chunk.choices[0]?.delta.content) first = performance.now() - start;
    return first;
  };
}

async function stepwiseRequest(client: OpenAI) {
  const assistant = await client.beta.assistants.create({ model: 'bench-model', instructions: 'Answer briefly.' });
  return async () => {
    const start = performance.now();
    let first: number | undefined;
    const stream = client.beta.threads.createAndRunStream({ assistant_id: assistant.id, thread: { messages: [{ role: 'user', content: 'Hi' }] } });
    stream.on('textDelta', () => (first ??= performance.now() - start));
    const run = await stream.finalRun();
    return run.status === 'completed' ? first : undefined;
  };
}

/** SQLite with no workers (one process does everything); PostgreSQL with one API process and `workers`. */
async function throughStepwise(name: string, workers: number): Promise<Result> {
  const deployment = await deploy(model.url, workers, TEST_DATABASE_URL);
  try {
    return await measure(name, await stepwiseRequest(new OpenAI({ baseURL: deployment.url, apiKey: 'k', maxRetries: 0 })), Math.max(1, workers), deployment);
  } finally {
    await deployment.close();
  }
}

const results: Result[] = [];
results.push(await measure('direct to the model server', directRequest(new OpenAI({ baseURL: model.url, apiKey: 'k', maxRetries: 0 })), 1));
results.push(await throughStepwise('Stepwise on SQLite, 1 process', 0));
if (TEST_DATABASE_URL) {
  for (const workers of [1, 2, 4]) {
    results.push(await throughStepwise(`Stepwise on PostgreSQL, 1 API + ${workers} worker${workers > 1 ? 's' : ''}`, workers));
  }
} else {
  console.log('(no STEPWISE_TEST_DATABASE_URL: PostgreSQL rows skipped; run under .ci/with-postgres)');
}
await model.close();

console.log(`${runs} streamed runs per row (after ${warmupPerExecutor} warm-up runs per executing process), ${concurrency} in flight, scripted model at zero latency`);
console.log(`${'configuration'.padEnd(44)} ${'runs/s'.padStart(8)} ${'TTFT p50'.padStart(10)} ${'TTFT p99'.padStart(10)} failed`);
for (const result of results) {
  console.log(
    `${result.name.padEnd(44)} ${result.runsPerSecond.toFixed(1).padStart(8)} ${`${result.ttftP50.toFixed(1)} ms`.padStart(10)} ${`${result.ttftP99.toFixed(1)} ms`.padStart(10)} ${result.failed}`,
  );
  if (!result.used) continue;
  console.log(`${''.padEnd(44)} per run: ${perRun(result.used, runs)}`);
  // On PostgreSQL, the API process's share and the workers'.
  if (result.used.roundTrips > 0) {
    const { api } = result.used;
    console.log(`${''.padEnd(44)}   API ${perRun(api, runs)}; workers ${perRun(difference([api], [result.used]), runs)}`);
  }
}
