// scratch (not committed): per-process counters and optional CPU profiles
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import OpenAI from 'openai';
import { ScriptedModel } from '../test/support/scripted-model.js';
import { TEST_DATABASE_URL, createThrowawayDatabase } from '../test/support/test-database.js';
import { spawnStepwise } from '../test/support/processes.js';

const workers = Number(process.argv[2] ?? 1);
const runs = Number(process.argv[3] ?? 400);
const concurrency = Number(process.argv[4] ?? 32);
const prof = process.env.PROF;
if (prof) (await import('node:fs')).mkdirSync(prof, { recursive: true });
const trace = process.env.TRACE;
const model = await ScriptedModel.start();
const dataDir = mkdtempSync(join(tmpdir(), 'stepwise-scratch-'));
const database = await createThrowawayDatabase(TEST_DATABASE_URL!);
const env = { STEPWISE_DATA_DIR: dataDir, OPENAI_BASE_URL: model.url, OPENAI_API_KEY: 'k', STEPWISE_POLL_AFTER_MS: '1', DATABASE_URL: database.url, ...(trace && { SCRATCH_TRACE: trace }), ...(prof && { SCRATCH_PROF: prof }) };
const INSTRUMENT = new URL('./support/instrument.ts', import.meta.url).pathname;
const TRACER = new URL('./scratch-trace.ts', import.meta.url).pathname;
async function spawn(name: string, role: 'api' | 'worker') {
  const statsFile = join(dataDir, `${name}.json`);
  const opts = ['--import', INSTRUMENT, ...(trace ? ['--import', TRACER] : []), ...(prof ? ['--import', new URL('./scratch-mark.ts', import.meta.url).pathname, '--cpu-prof', `--cpu-prof-dir=${prof}/${name}`] : [])];
  const p = await spawnStepwise({ ...env, STEPWISE_BENCH_STATS: statsFile, SCRATCH_NAME: name }, role, opts);
  let seq = 0;
  return { name, p, async counters() {
    p.child.kill('SIGUSR2');
    for (;;) { await sleep(10); try { const s = JSON.parse(readFileSync(statsFile, 'utf8')); if (s.seq > seq) { seq = s.seq; return s; } } catch {} }
  } };
}
const procs = [await spawn('api', 'api'), ...(await Promise.all(Array.from({ length: workers }, (_, i) => spawn(`w${i}`, 'worker'))))];
const client = new OpenAI({ baseURL: procs[0]!.p.url, apiKey: 'k', maxRetries: 0 });
const assistant = await client.beta.assistants.create({ model: 'bench-model', instructions: 'Answer briefly.' });
async function load(count: number) {
  model.script(...Array.from({ length: count }, () => ({ text: ['Hello', ' there'] })));
  let next = 0; let failed = 0; const ttfts: number[] = [];
  const t0 = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < count) { next++;
      const start = performance.now(); let first: number | undefined;
      const stream = client.beta.threads.createAndRunStream({ assistant_id: assistant.id, thread: { messages: [{ role: 'user', content: 'Hi' }] } });
      stream.on('textDelta', () => (first ??= performance.now() - start));
      const run = await stream.finalRun().catch(() => undefined);
      if (run?.status === 'completed') ttfts.push(first!); else failed++;
    }
  }));
  return { s: (performance.now() - t0) / 1000, ttfts: ttfts.sort((a, b) => a - b), failed };
}
await load(Number(process.env.WARMUP ?? 40));
const before = await Promise.all(procs.map((p) => p.counters()));
const r = await load(runs);
const after = await Promise.all(procs.map((p) => p.counters()));
console.log(`workers=${workers} runs/s=${((runs - r.failed) / r.s).toFixed(1)} ttft p50=${r.ttfts[r.ttfts.length >> 1]!.toFixed(1)} p99=${r.ttfts[Math.floor(r.ttfts.length * 0.99)]!.toFixed(1)} failed=${r.failed}`);
let cpu = 0, rt = 0;
procs.forEach((p, i) => { const c = (after[i].cpuMs - before[i].cpuMs) / runs, t = (after[i].roundTrips - before[i].roundTrips) / runs; cpu += c; rt += t; console.log(`  ${p.name}: cpu ${c.toFixed(2)} ms/run, ${t.toFixed(2)} rt/run`); });
console.log(`  total: cpu ${cpu.toFixed(2)} ms/run, ${rt.toFixed(2)} rt/run`);
await Promise.all(procs.map((p) => p.p.terminate()));
await model.close();
await database.drop();
