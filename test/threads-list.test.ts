import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import OpenAI from 'openai';
import type { Thread } from '../src/spec/wire.js';
import { type Harness, startHarness } from './support/harness.js';

interface ThreadPage {
  object: 'list';
  data: Thread[];
  first_id: string | null;
  last_id: string | null;
  has_more: boolean;
}

let h: Harness;
let a: OpenAI;
let b: OpenAI;
/** Five threads of project a, oldest first; the odd ones have metadata `{ team: 'blue' }`. */
let ids: string[];

const clientWith = (apiKey: string) => new OpenAI({ baseURL: h.stepwise.url, apiKey, maxRetries: 0 });
const list = (client: OpenAI, query: Record<string, string | number>) => client.get<ThreadPage>('/threads', { query });

before(async () => {
  h = await startHarness();
  a = clientWith((await h.stepwise.apiKeys.create('proj_a')).secret);
  b = clientWith((await h.stepwise.apiKeys.create('proj_b')).secret);
  ids = [];
  for (let i = 0; i < 5; i++) ids.push((await a.beta.threads.create({ metadata: i % 2 ? { team: 'blue', n: String(i) } : { n: String(i) } })).id);
  await b.beta.threads.create({ metadata: { team: 'blue' } });
});
after(() => h.close());

test('GET /threads lists the key\'s threads newest first, with cursor pagination', async () => {
  const first = await list(a, { limit: 2 });
  assert.deepEqual(first.data.map((t) => t.id), [ids[4], ids[3]]);
  assert.equal(first.has_more, true);
  assert.equal(first.first_id, ids[4]);
  assert.equal(first.last_id, ids[3]);
  const rest = await list(a, { limit: 10, after: first.last_id! });
  assert.deepEqual(rest.data.map((t) => t.id), [ids[2], ids[1], ids[0]]);
  assert.equal(rest.has_more, false);
  const ascending = await list(a, { order: 'asc', before: ids[3]! });
  assert.deepEqual(ascending.data.map((t) => t.id), ids.slice(0, 3));
  assert.deepEqual(first.data[0], await a.beta.threads.retrieve(ids[4]!));
});

test('GET /threads filters by metadata key and value, within the project', async () => {
  const blue = await list(a, { 'metadata[team]': 'blue' });
  assert.deepEqual(blue.data.map((t) => t.id), [ids[3], ids[1]]);
  const both = await list(a, { 'metadata[team]': 'blue', 'metadata[n]': '1' });
  assert.deepEqual(both.data.map((t) => t.id), [ids[1]]);
  assert.deepEqual((await list(a, { 'metadata[team]': 'red' })).data, []);
  const other = await list(b, {});
  assert.equal(other.data.length, 1);
  assert.ok(!ids.includes(other.data[0]!.id));
});

test('GET /threads refuses bad pagination and oversized metadata keys with the error object', async () => {
  await assert.rejects(list(a, { limit: 0 }), (error: InstanceType<typeof OpenAI.APIError>) => error.status === 400 && (error.error as { param?: string }).param === 'limit');
  await assert.rejects(list(a, { [`metadata[${'k'.repeat(65)}]`]: 'v' }), (error: InstanceType<typeof OpenAI.APIError>) => error.status === 400);
  await assert.rejects(clientWith('sk-wrong').get('/threads'), (error: InstanceType<typeof OpenAI.APIError>) => error.status === 401);
});
