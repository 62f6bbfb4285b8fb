/**
 * CPU per streamed chat completion on the client side: the openai SDK path Stepwise called
 * models through until issue 14 (`chat.completions.create(...).asResponse()`, then
 * `Stream.fromSSEResponse`) against its own client (OpenAICompatibleModel: node:http and
 * eventsource-parser), in the same run, against the scripted model in another process.
 * Usage: npm run bench:model-client [-- CALLS [PIECES]]
 */
import OpenAI from 'openai';
import type { ChatCompletionChunk } from 'openai/resources/chat/completions';
import { Stream } from 'openai/streaming';
import type { ChatRequest } from '../src/providers/chat-model.js';
import { OpenAICompatibleModel } from '../src/providers/openai-compatible.js';
import { startModelProcess } from './support/model-process.js';

// Alternating blocks of calls, so both clients see the same machine state, while the garbage one
// leaves is mostly collected on its own time.
const BLOCK = 50;
const calls = Math.ceil(Number(process.argv[2] ?? 1000) / BLOCK) * BLOCK;
const pieces = Number(process.argv[3] ?? 2);
const warmup = 100;
const TIMEOUT_MS = 120_000;

const model = await startModelProcess(2 * (warmup + calls), pieces);
const baseURL = model.url;

const request: ChatRequest = { model: 'bench-model', messages: [{ role: 'user', content: 'Hi' }] };
const signal = new AbortController().signal;

const sdk = new OpenAI({ baseURL, apiKey: 'k', maxRetries: 0, timeout: TIMEOUT_MS });
async function throughSdk(): Promise<string> {
  const response = await sdk.chat.completions.create({ ...request, stream: true, stream_options: { include_usage: true } }, { signal }).asResponse();
  let text = '';
  for await (const chunk of Stream.fromSSEResponse<ChatCompletionChunk>(response, new AbortController())) text += chunk.choices[0]?.delta.content ?? '';
  return text;
}

const lean = new OpenAICompatibleModel({ type: 'openai', baseURL, apiKey: 'k' }, TIMEOUT_MS);
async function throughLeanClient(): Promise<string> {
  let text = '';
  for await (const event of lean.stream(request, signal)) if (event.type === 'text-delta') text += event.text;
  return text;
}

const clients = { 'openai SDK (before)': throughSdk, 'node:http + eventsource-parser (now)': throughLeanClient };
const cpuMs = { 'openai SDK (before)': 0, 'node:http + eventsource-parser (now)': 0 };
for (let done = -warmup; done < calls; done += BLOCK) {
  for (const [name, call] of Object.entries(clients) as [keyof typeof clients, () => Promise<string>][]) {
    const before = process.cpuUsage();
    for (let i = 0; i < BLOCK; i++) {
      const text = await call();
      if (!text.startsWith('Hello')) throw new Error(`${name} read ${JSON.stringify(text)}`);
    }
    const used = process.cpuUsage(before);
    if (done >= 0) cpuMs[name] += (used.user + used.system) / 1000;
  }
}
await model.close();

console.log(`\nclient CPU per streamed call, ${calls} calls each (${pieces} text pieces), scripted model in its own process`);
for (const [name, total] of Object.entries(cpuMs)) console.log(`${name.padEnd(40)} ${(total / calls).toFixed(3)} ms`);
