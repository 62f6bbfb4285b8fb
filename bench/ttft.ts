/**
 * Time to first token through Stepwise (a streamed run) against the same scripted model server
 * called directly (a streamed chat completion), measured in the same process and run.
 * Usage: npm run bench [-- ROUNDS]
 */
import { performance } from 'node:perf_hooks';
import OpenAI from 'openai';
import { startHarness } from '../test/support/harness.js';

const rounds = Number(process.argv[2] ?? 200);
const warmup = 20;

function percentile(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

const h = await startHarness({ env: { STEPWISE_POLL_AFTER_MS: '1' } });
const direct = new OpenAI({ baseURL: h.model.url, apiKey: 'k', maxRetries: 0 });
const assistant = await h.client.beta.assistants.create({ model: 'bench-model', instructions: 'Answer briefly.' });

async function directTtft(): Promise<number> {
  h.model.script({ text: ['Hello', ' there'] });
  const start = performance.now();
  const stream = await direct.chat.completions.create({ model: 'bench-model', messages: [{ role: 'user', content: 'Hi' }], stream: true });
  let first = 0;
  for await (const chunk of stream) if (!first && chunk.choices[0]?.delta.content) first = performance.now() - start;
  return first;
}

async function stepwiseTtft(): Promise<number> {
  h.model.script({ text: ['Hello', ' there'] });
  const start = performance.now();
  let first = 0;
  // A new thread each round, so every prompt is the same size as the direct call's.
  const stream = h.client.beta.threads.createAndRunStream({ assistant_id: assistant.id, thread: { messages: [{ role: 'user', content: 'Hi' }] } });
  stream.on('textDelta', () => (first ||= performance.now() - start));
  await stream.finalRun();
  return first;
}

const directSamples: number[] = [];
const stepwiseSamples: number[] = [];
for (let i = 0; i < warmup + rounds; i++) {
  // Interleaved, so both see the same machine state.
  const d = await directTtft();
  const s = await stepwiseTtft();
  if (i >= warmup) {
    directSamples.push(d);
    stepwiseSamples.push(s);
  }
}
const row = (name: string, samples: number[]) => `${name.padEnd(40)} p50 ${percentile(samples, 50).toFixed(2)} ms   p95 ${percentile(samples, 95).toFixed(2)} ms`;
console.log(`time to first token, ${rounds} rounds each, scripted model at zero latency`);
console.log(row('direct to the model server', directSamples));
console.log(row('through Stepwise (createAndRunStream)', stepwiseSamples));
console.log(`ratio p50 ${(percentile(stepwiseSamples, 50) / percentile(directSamples, 50)).toFixed(2)}x, added p50 ${(percentile(stepwiseSamples, 50) - percentile(directSamples, 50)).toFixed(2)} ms`);
await h.close();
