import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { assertMatchesSpec, type Harness, startHarness } from './support/harness.js';

interface ListPage {
  object: string;
  data: { id: string }[];
  first_id: string | null;
  last_id: string | null;
  has_more: boolean;
}

let h: Harness;
/** The ids of seven assistants, oldest first; the server holds no others. */
let ids: string[];
let threadId: string;
/** The ids of seven messages of `threadId`, oldest first. */
let messageIds: string[];

before(async () => {
  h = await startHarness();
  ids = [];
  for (let i = 0; i < 7; i++) ids.push((await h.client.beta.assistants.create({ model: 'gpt-4o', name: `a${i}` })).id);
  threadId = (await h.client.beta.threads.create()).id;
  messageIds = [];
  for (let i = 0; i < 7; i++) messageIds.push((await h.client.beta.threads.messages.create(threadId, { role: 'user', content: `m${i}` })).id);
});
after(() => h.close());

async function get(path: string): Promise<{ status: number; body: any }> {
  const response = await fetch(`${h.stepwise.url}${path}`, { headers: { 'OpenAI-Beta': 'assistants=v2' } });
  return { status: response.status, body: await response.json() };
}

async function page(path: string, query: string, schema: string): Promise<ListPage> {
  const { status, body } = await get(`${path}?${query}`);
  assert.equal(status, 200, JSON.stringify(body));
  // The spec types first_id/last_id as strings but says nothing of empty pages; like OpenAI, they are null there.
  if (body.data.length === 0) assert.deepEqual(body, { object: 'list', data: [], first_id: null, last_id: null, has_more: false });
  else assertMatchesSpec(schema, body);
  assert.equal(body.object, 'list');
  return body as ListPage;
}

function expectPage(actual: ListPage, expectedIds: (string | undefined)[], hasMore: boolean): void {
  assert.deepEqual(actual.data.map((item) => item.id), expectedIds);
  assert.equal(actual.first_id, expectedIds[0] ?? null);
  assert.equal(actual.last_id, expectedIds.at(-1) ?? null);
  assert.equal(actual.has_more, hasMore);
}

/** Walks `after` cursors as the SDKs do, checking every page. */
async function walkAfter(path: string, order: 'asc' | 'desc', all: string[], schema: string): Promise<void> {
  const expected = order === 'asc' ? all : [...all].reverse();
  let cursor: string | undefined;
  for (let start = 0; start < expected.length; start += 2) {
    const current = await page(path, `limit=2&order=${order}${cursor ? `&after=${cursor}` : ''}`, schema);
    expectPage(current, expected.slice(start, start + 2), start + 2 < expected.length);
    cursor = current.last_id ?? undefined;
  }
}

for (const order of ['asc', 'desc'] as const) {
  test(`assistants: limit=2 order=${order} with after visits every item once`, () => walkAfter('/assistants', order, ids, 'ListAssistantsResponse'));
  test(`messages: limit=2 order=${order} with after visits every item once`, () =>
    walkAfter(`/threads/${threadId}/messages`, order, messageIds, 'ListMessagesResponse'));
}

test('before returns the items just before the cursor, in the requested order', async () => {
  // In desc order the items before a2 are the newer ones; a4 and a3 are the two closest to the cursor.
  expectPage(await page('/assistants', `limit=2&order=desc&before=${ids[2]}`, 'ListAssistantsResponse'), [ids[4], ids[3]], true);
  expectPage(await page('/assistants', `limit=2&order=desc&before=${ids[5]}`, 'ListAssistantsResponse'), [ids[6]], false);
  expectPage(await page('/assistants', `limit=2&order=asc&before=${ids[4]}`, 'ListAssistantsResponse'), [ids[2], ids[3]], true);
  expectPage(await page('/assistants', `limit=2&order=asc&before=${ids[2]}`, 'ListAssistantsResponse'), [ids[0], ids[1]], false);
  expectPage(await page('/assistants', `limit=2&order=asc&before=${ids[0]}`, 'ListAssistantsResponse'), [], false);
});

test('after and before together bound the page on both sides', async () => {
  expectPage(await page('/assistants', `order=asc&after=${ids[1]}&before=${ids[5]}`, 'ListAssistantsResponse'), [ids[2], ids[3], ids[4]], false);
  expectPage(await page('/assistants', `order=desc&after=${ids[5]}&before=${ids[1]}`, 'ListAssistantsResponse'), [ids[4], ids[3], ids[2]], false);
});

test('default page is limit 20, newest first; after the last item the page is empty', async () => {
  expectPage(await page('/assistants', '', 'ListAssistantsResponse'), [...ids].reverse(), false);
  const empty = await page('/assistants', `order=desc&after=${ids[0]}`, 'ListAssistantsResponse');
  assert.deepEqual(empty.data, []);
  assert.equal(empty.has_more, false);
});

test('limit=1 and limit=100 are accepted', async () => {
  expectPage(await page('/assistants', 'limit=1', 'ListAssistantsResponse'), [ids[6]], true);
  expectPage(await page('/assistants', 'limit=100&order=asc', 'ListAssistantsResponse'), ids, false);
});

test('SDK auto-pagination yields every assistant once, in order', async () => {
  const seen: string[] = [];
  for await (const assistant of h.client.beta.assistants.list({ limit: 2 })) seen.push(assistant.id);
  assert.deepEqual(seen, [...ids].reverse());
  const ascending: string[] = [];
  for await (const assistant of h.client.beta.assistants.list({ limit: 3, order: 'asc' })) ascending.push(assistant.id);
  assert.deepEqual(ascending, ids);
});

test('SDK auto-pagination over messages yields every message once, in order', async () => {
  const seen: string[] = [];
  for await (const message of h.client.beta.threads.messages.list(threadId, { limit: 2, order: 'asc' })) seen.push(message.id);
  assert.deepEqual(seen, messageIds);
});

for (const limit of ['0', '101', 'abc', '-1', '2.5', '', '1e1', '0x10']) {
  test(`limit=${JSON.stringify(limit)} is a 400 on param 'limit'`, async () => {
    for (const path of ['/assistants', `/threads/${threadId}/messages`]) {
      const { status, body } = await get(`${path}?limit=${limit}`);
      assert.equal(status, 400);
      assert.equal(body.error.type, 'invalid_request_error');
      assert.equal(body.error.param, 'limit');
    }
  });
}

test(`order=sideways is a 400 on param 'order'`, async () => {
  for (const path of ['/assistants', `/threads/${threadId}/messages`]) {
    const { status, body } = await get(`${path}?order=sideways`);
    assert.equal(status, 400);
    assert.equal(body.error.type, 'invalid_request_error');
    assert.equal(body.error.param, 'order');
  }
});

test('repeated query parameters are a 400', async () => {
  const { status, body } = await get('/assistants?limit=2&limit=3');
  assert.equal(status, 400);
  assert.equal(body.error.param, 'limit');
});
