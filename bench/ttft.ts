/**
 * Time to first token, one run at a time, through Stepwise in its own process (a streamed run)
 * against the same scripted model server called directly (a streamed chat completion), in the
 * same run: on SQLite, and on PostgreSQL (1 API + 1 worker) when STEPWISE_TEST_DATABASE_URL is
 * set (run it under .ci/with-postgres). Also what the Stepwise processes used per run.
 * Usage: npm run bench [-- ROUNDS]
 */
import { performance } from 'node:perf_hooks';
import OpenAI from 'openai';
import { ScriptedModel } from '../test/support/scripted-model.js';
import { TEST_DATABASE_URL } from '../test/support/test-database.js';
import { deploy, perRun } from './support/measured.js';

const rounds = Number(process.argv[2] ?? 200);
const warmup = 20;

function percentile(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

const model = await ScriptedModel.start();
const direct = new OpenAI({ baseURL: model.url, apiKey: 'k', maxRetries: 0 });

async function directTtft(): Promise<number> {
  model.script({ text: ['Hello', ' there'] });
  const start = performance.now();
  const stream = await direct.chat.completions.create({ model: 'bench-model', messages: [{ role: 'user', content: 'Hi' }], stream: true });
  let first = 0;
  for await (const chunk of stream) if (!first && chunk.choices[0]?.delta.content) first = performance.now() - start;
  return first;
}

async function stepwiseTtft(client: OpenAI, assistantId: string): Promise<number> {
  model.script({ text: ['Hello', ' there'] });
  const start = performance.now();
  let first = 0;
  // A new thread each round, so every prompt is the same size as the direct call's.
  const stream = client.beta.threads.createAndRunStream({ assistant_id: assistantId, thread: { messages: [{ role: 'user', content: 'Hi' }] } });
  stream.on('textDelta', () => (first ||= performance.now() - start));
  await stream.finalRun();
  return first;
}

const row = (name: string, samples: number[]) => `${name.padEnd(44)} p50 ${percentile(samples, 50).toFixed(2)} ms   p95 ${percentile(samples, 95).toFixed(2)} ms`;

async function compare(name: string, workers: number): Promise<void> {
  const deployment = await deploy(model.url, workers, TEST_DATABASE_URL);
  try {
    const client = new OpenAI({ baseURL: deployment.url, apiKey: 'k', maxRetries: 0 });
    const assistant = await client.beta.assistants.create({ model: 'bench-model', instructions: 'Answer briefly.' });
    const directSamples: number[] = [];
    const stepwiseSamples: number[] = [];
    for (let i = 0; i < warmup + rounds; i++) {
      if (i === warmup) await deployment.usedSinceLast();
      // Interleaved, so both see the same machine state.
      const d = await directTtft();
      const s = await stepwiseTtft(client, assistant.id);
      if (i >= warmup) {
        directSamples.push(d);
        stepwiseSamples.push(s);
      }
    }
    const used = await deployment.usedSinceLast();
    console.log(`\n${name}: time to first token, ${rounds} rounds each, scripted model at zero latency`);
    console.log(row('direct to the model server', directSamples));
    console.log(row('through Stepwise (createAndRunStream)', stepwiseSamples));
    const added = percentile(stepwiseSamples, 50) - percentile(directSamples, 50);
    console.log(`ratio p50 ${(percentile(stepwiseSamples, 50) / percentile(directSamples, 50)).toFixed(2)}x, added p50 ${added.toFixed(2)} ms`);
    console.log(`per run: ${perRun(used, rounds)}`);
  } finally {
    await deployment.close();
  }
}

await compare('SQLite, 1 process', 0);
if (TEST_DATABASE_URL) await compare('PostgreSQL, 1 API + 1 worker', 1);
else console.log('\n(no STEPWISE_TEST_DATABASE_URL: PostgreSQL skipped; run under .ci/with-postgres)');
await model.close();
