/**
 * code_interpreter sandbox: cold start of a PythonSandbox (worker + Pyodide) and the overhead of
 * one run() call, empty and with a tiny computation.
 * Usage: npm run bench:code-interpreter [-- CALLS]
 */
import { performance } from 'node:perf_hooks';
import { PythonSandbox } from '../src/tools/code-interpreter/sandbox.js';

const callCount = Number(process.argv[2] ?? 50);
const STARTS = 3;
const options = { timeoutMs: 30_000, memoryLimitMb: 512 };

function percentile(sortedMs: number[], fraction: number): number {
  return sortedMs[Math.min(sortedMs.length - 1, Math.ceil(fraction * sortedMs.length) - 1)] ?? Number.NaN;
}

function summary(label: string, samplesMs: number[]): string {
  const sorted = [...samplesMs].sort((a, b) => a - b);
  return `${label.padEnd(28)} median ${percentile(sorted, 0.5).toFixed(2)} ms   p95 ${percentile(sorted, 0.95).toFixed(2)} ms   (n=${sorted.length})`;
}

async function timeCalls(sandbox: PythonSandbox, code: string): Promise<number[]> {
  await sandbox.run(code);
  const samples: number[] = [];
  for (let i = 0; i < callCount; i++) {
    const started = performance.now();
    const result = await sandbox.run(code);
    samples.push(performance.now() - started);
    if (result.error) throw new Error(`benchmark cell failed: ${result.logs}`);
  }
  return samples;
}

const startTimes: number[] = [];
let sandbox: PythonSandbox | undefined;
for (let i = 0; i < STARTS; i++) {
  await sandbox?.close();
  const started = performance.now();
  sandbox = await PythonSandbox.start(options);
  startTimes.push(performance.now() - started);
}
if (!sandbox) throw new Error('no sandbox started');

console.log(summary('sandbox start (cold)', startTimes));
console.log(summary('run: pass', await timeCalls(sandbox, 'pass')));
console.log(summary('run: sum(range(1000))', await timeCalls(sandbox, 'print(sum(i * i for i in range(1000)))')));
await sandbox.close();
