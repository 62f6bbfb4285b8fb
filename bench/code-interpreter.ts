/**
 * code_interpreter sandbox: cold start of a jailed interpreter (bubblewrap + Python with numpy,
 * pandas and matplotlib imported), start from the warm pool, the overhead of one `pass` call, and
 * the memory an idle session holds (PSS of its processes, so shared libraries count once overall).
 * Usage: npm run bench:code-interpreter [-- CALLS]
 */
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { Cgroups } from '../src/tools/code-interpreter/cgroups.js';
import { Interpreters } from '../src/tools/code-interpreter/interpreters.js';
import { PythonSandbox } from '../src/tools/code-interpreter/sandbox.js';

const callCount = Number(process.argv[2] ?? 200);
const STARTS = 5;
const IDLE_SESSIONS = 5;
const limits = { memoryMb: 1024, dataMb: 512, cpuSeconds: 3600, processes: 128, openFiles: 1024 };
const PRELOAD = ['numpy', 'pandas', 'matplotlib.pyplot'];
const BWRAP = '/usr/bin/bwrap';

function percentile(sortedMs: number[], fraction: number): number {
  return sortedMs[Math.min(sortedMs.length - 1, Math.ceil(fraction * sortedMs.length) - 1)] ?? Number.NaN;
}

function summary(label: string, samplesMs: number[]): string {
  const sorted = [...samplesMs].sort((a, b) => a - b);
  return `${label.padEnd(36)} median ${percentile(sorted, 0.5).toFixed(2)} ms   p95 ${percentile(sorted, 0.95).toFixed(2)} ms   (n=${sorted.length})`;
}

async function timed<T>(action: () => Promise<T>): Promise<[T, number]> {
  const started = performance.now();
  const value = await action();
  return [value, performance.now() - started];
}

function memoryKb(pids: number[], field: 'Pss' | 'Rss'): number {
  return pids.reduce((sum, pid) => sum + Number(new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))?.[1] ?? 0), 0);
}

const cgroups = Cgroups.detect();
async function coldStarts(preload: string[]): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < STARTS; i++) {
    const [sandbox, ms] = await timed(() => PythonSandbox.start({ bwrap: BWRAP, timeoutMs: 30_000, limits, cgroups, preload }));
    samples.push(ms);
    await sandbox.close();
  }
  return samples;
}
console.log(summary('cold start, no imports', await coldStarts([])));
console.log(summary('cold start, numpy+pandas+pyplot', await coldStarts(PRELOAD)));

const interpreters = new Interpreters({ bwrap: BWRAP, timeoutMs: 30_000, limits, warmPoolSize: 1 });
interpreters.warmUp();
await (await interpreters.acquire()).close();
const warmStarts: number[] = [];
const firstCalls: number[] = [];
for (let i = 0; i < STARTS; i++) {
  // Let the pool refill, as it does between new threads.
  await sleep(2500);
  const [sandbox, ms] = await timed(() => interpreters.acquire());
  warmStarts.push(ms);
  const [, callMs] = await timed(() => sandbox.run('import pandas as pd\npd.DataFrame({"a": [1, 2]}).sum()'));
  firstCalls.push(ms + callMs);
  await sandbox.close();
}
console.log(summary('warm-pool start', warmStarts));
console.log(summary('first call of a thread (warm pool)', firstCalls));

const sandbox = await interpreters.acquire();
const calls: number[] = [];
await sandbox.run('pass');
for (let i = 0; i < callCount; i++) calls.push((await timed(() => sandbox.run('pass')))[1]);
console.log(summary('call: pass', calls));
await sandbox.close();

const idle = await Promise.all(Array.from({ length: IDLE_SESSIONS }, () => PythonSandbox.start({ bwrap: BWRAP, timeoutMs: 30_000, limits, cgroups, preload: PRELOAD })));
for (const session of idle) await session.run('import numpy as np\nx = np.arange(10)');
const pids = idle.flatMap((session) => session.processes());
console.log(`idle session memory                  PSS ${(memoryKb(pids, 'Pss') / IDLE_SESSIONS / 1024).toFixed(1)} MB   RSS ${(memoryKb(pids, 'Rss') / IDLE_SESSIONS / 1024).toFixed(1)} MB   (mean of ${IDLE_SESSIONS}, ${pids.length / IDLE_SESSIONS} processes each)`);
await Promise.all(idle.map((session) => session.close()));
await interpreters.close();
await cgroups.close();
