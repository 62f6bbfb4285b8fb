/**
 * Time to first token, one run at a time, through Stepwise in its own process (a streamed run)
 * against the same scripted model server, in a process of its own, called directly (a streamed
 * chat completion), in the same run: on SQLite, and on PostgreSQL (1 API + 1 worker) when
 * STEPWISE_TEST_DATABASE_URL is set (run it under .ci/with-postgres). The run is read two ways
 * with the openai SDK: its plain stream of events, and the AssistantStream helper, whose own work
 * on each event the client pays against any server. A bare pass-through proxy in its own process
 * (`support/pass-through-proxy.ts`) shows the least any server in between adds. Also what the
 * Stepwise processes used per run.
 * Usage: npm run bench [-- ROUNDS]
 */
import { performance } from 'node:perf_hooks';
import OpenAI from 'openai';
import { TEST_DATABASE_URL } from '../test/support/test-database.js';
import { deploy, perRun } from './support/measured.js';
import { startModelProcess, startPassThroughProxy } from './support/model-process.js';

const rounds = Number(process.argv[2] ?? 200);
const warmup = 20;

function percentile(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

const deployments = TEST_DATABASE_URL ? 2 : 1;
// In its own process, as a real model server is: the direct call then crosses between processes
// as the calls through Stepwise do, rather than staying inside the bench's event loop.
const model = await startModelProcess((2 + deployments * 3) * (warmup + rounds), 2);
const proxy = await startPassThroughProxy(model.url);
const directClient = new OpenAI({ baseURL: model.url, apiKey: 'k', maxRetries: 0 });
const proxiedClient = new OpenAI({ baseURL: proxy.url, apiKey: 'k', maxRetries: 0 });

async function chatTtft(client: OpenAI): Promise<number> {
  const start = performance.now();
  const stream = await client.chat.completions.create({ model: 'bench-model', messages: [{ role: 'user', content: 'Hi' }], stream: true });
  let first = 0;
  for await (const chunk of stream) if (!first && chunk.choices[0]?.delta.content) first = performance.now() - start;
  return first;
}

/** A new thread each round, so every prompt is the same size as the direct call's. */
const createAndRun = (assistantId: string) => ({ assistant_id: assistantId, thread: { messages: [{ role: 'user' as const, content: 'Hi' }] } });

/** The SDK's stream of events, read as they come: what Stepwise adds, with little of the client's own work. */
async function stepwiseEventsTtft(client: OpenAI, assistantId: string): Promise<number> {
  const start = performance.now();
  let first = 0;
  const stream = await client.beta.threads.createAndRun({ ...createAndRun(assistantId), stream: true });
  for await (const event of stream) if (!first && event.event === 'thread.message.delta') first = performance.now() - start;
  return first;
}

/** The SDK's AssistantStream helper, as most apps stream: it also builds a snapshot of every object it is sent. */
async function stepwiseHelperTtft(client: OpenAI, assistantId: string): Promise<number> {
  const start = performance.now();
  let first = 0;
  const stream = client.beta.threads.createAndRunStream(createAndRun(assistantId));
  stream.on('textDelta', () => (first ||= performance.now() - start));
  await stream.finalRun();
  return first;
}

/** How much later than `direct` a set of samples saw its first token, at p50. */
const addedTo = (direct: number[]) => (through: number[]) =>
  `added p50 ${(percentile(through, 50) - percentile(direct, 50)).toFixed(2)} ms, ratio ${(percentile(through, 50) / percentile(direct, 50)).toFixed(2)}x`;

const row = (name: string, samples: number[]) => `${name.padEnd(44)} p50 ${percentile(samples, 50).toFixed(2)} ms   p95 ${percentile(samples, 95).toFixed(2)} ms`;

async function compare(name: string, workers: number): Promise<void> {
  const deployment = await deploy(model.url, workers, TEST_DATABASE_URL);
  try {
    const client = new OpenAI({ baseURL: deployment.url, apiKey: 'k', maxRetries: 0 });
    const assistant = await client.beta.assistants.create({ model: 'bench-model', instructions: 'Answer briefly.' });
    const samples = { direct: [] as number[], events: [] as number[], helper: [] as number[] };
    for (let i = 0; i < warmup + rounds; i++) {
      if (i === warmup) await deployment.usedSinceLast();
      // Interleaved, so all three see the same machine state.
      const round = { direct: await chatTtft(directClient), events: await stepwiseEventsTtft(client, assistant.id), helper: await stepwiseHelperTtft(client, assistant.id) };
      if (i >= warmup) for (const key of ['direct', 'events', 'helper'] as const) samples[key].push(round[key]);
    }
    const used = await deployment.usedSinceLast();
    const added = addedTo(samples.direct);
    console.log(`\n${name}: time to first token, ${rounds} rounds each, scripted model at zero latency`);
    console.log(row('direct to the model server', samples.direct));
    console.log(`${row('through Stepwise, the stream of events', samples.events)}   ${added(samples.events)}`);
    console.log(`${row('through Stepwise, createAndRunStream', samples.helper)}   ${added(samples.helper)}`);
    // Two streamed runs a round.
    console.log(`per run: ${perRun(used, rounds * 2)}`);
  } finally {
    await deployment.close();
  }
}

/**
 * The floor: a server that only forwards adds this much. Apart from the Stepwise rounds, whose
 * process would otherwise sit idle through the proxied calls too, and start each run colder.
 */
async function passThroughFloor(): Promise<void> {
  const samples = { direct: [] as number[], proxied: [] as number[] };
  for (let i = 0; i < warmup + rounds; i++) {
    const round = { direct: await chatTtft(directClient), proxied: await chatTtft(proxiedClient) };
    if (i >= warmup) for (const key of ['direct', 'proxied'] as const) samples[key].push(round[key]);
  }
  console.log(`\nA bare pass-through proxy (node:http, nothing stored or parsed): ${rounds} rounds each`);
  console.log(row('direct to the model server', samples.direct));
  console.log(`${row('through the proxy', samples.proxied)}   ${addedTo(samples.direct)(samples.proxied)}`);
}

await passThroughFloor();
await compare('SQLite, 1 process', 0);
if (TEST_DATABASE_URL) await compare('PostgreSQL, 1 API + 1 worker', 1);
else console.log('\n(no STEPWISE_TEST_DATABASE_URL: PostgreSQL skipped; run under .ci/with-postgres)');
await proxy.close();
await model.close();
