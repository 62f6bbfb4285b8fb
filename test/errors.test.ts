import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { BadRequestError, NotFoundError } from 'openai';
import { type Harness, startHarness } from './support/harness.js';

let h: Harness;
before(async () => {
  h = await startHarness();
});
after(() => h.close());

interface ErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

interface RawResponse {
  status: number;
  headers: Headers;
  body: ErrorBody;
}

const JSON_V2 = { 'content-type': 'application/json', 'OpenAI-Beta': 'assistants=v2' };

async function raw(method: string, path: string, init: { body?: string; headers?: Record<string, string> } = {}): Promise<RawResponse> {
  const response = await fetch(`${h.stepwise.url}${path}`, { method, headers: init.headers ?? JSON_V2, ...(init.body !== undefined && { body: init.body }) });
  return { status: response.status, headers: response.headers, body: (await response.json()) as ErrorBody };
}

const post = (path: string, body: unknown) => raw('POST', path, { body: JSON.stringify(body) });

/** The OpenAI error object: exactly four keys, of the right types. */
function assertError(response: RawResponse, status: number, param: string | null, messagePattern?: RegExp): ErrorBody['error'] {
  assert.equal(response.status, status, JSON.stringify(response.body));
  assert.deepEqual(Object.keys(response.body), ['error']);
  const { error } = response.body;
  assert.deepEqual(Object.keys(error).sort(), ['code', 'message', 'param', 'type']);
  assert.equal(typeof error.message, 'string');
  assert.ok(error.message.length > 0);
  assert.equal(error.type, status >= 500 ? 'server_error' : 'invalid_request_error');
  assert.equal(error.param, param);
  assert.ok(error.code === null || typeof error.code === 'string');
  if (messagePattern) assert.match(error.message, messagePattern);
  return error;
}

test('unknown ids are 404s with the full error object', async () => {
  const thread = await h.client.beta.threads.create();
  for (const [method, path] of [
    ['GET', '/assistants/asst_nope'],
    ['POST', '/assistants/asst_nope'],
    ['DELETE', '/assistants/asst_nope'],
    ['GET', '/threads/thread_nope'],
    ['POST', '/threads/thread_nope'],
    ['DELETE', '/threads/thread_nope'],
    ['GET', '/threads/thread_nope/messages'],
    ['POST', '/threads/thread_nope/messages'],
    ['GET', `/threads/${thread.id}/messages/msg_nope`],
    ['POST', `/threads/${thread.id}/messages/msg_nope`],
    ['DELETE', `/threads/${thread.id}/messages/msg_nope`],
  ] as const) {
    const body = method === 'POST' ? (path.endsWith('/messages') ? { role: 'user', content: 'x' } : { metadata: {} }) : undefined;
    const response = await raw(method, path, body === undefined ? { headers: { 'OpenAI-Beta': 'assistants=v2' } } : { body: JSON.stringify(body) });
    const error = assertError(response, 404, null);
    assert.equal(error.code, 'not_found', `${method} ${path}`);
    assert.match(error.message, /_nope/);
  }
});

test('unknown top-level field is a 400 naming the field', async () => {
  const error = assertError(await post('/assistants', { model: 'gpt-4o', colour: 'red' }), 400, 'colour');
  assert.equal(error.message, 'Unrecognized request argument supplied: colour');
  assertError(await post('/threads', { messages: [], colour: 'red' }), 400, 'colour', /^Unrecognized request argument supplied: colour$/);
  assertError(await post('/threads', { '': 'red' }), 400, null, /^Unrecognized request argument supplied: ''$/);
  const thread = await h.client.beta.threads.create();
  assertError(await post(`/threads/${thread.id}/messages`, { role: 'user', content: 'x', colour: 'red' }), 400, 'colour', /Unrecognized request argument supplied: colour/);
  assertError(await post(`/threads/${thread.id}`, { colour: 'red' }), 400, 'colour', /Unrecognized request argument supplied: colour/);
});

test('a field of the wrong type or out of range is a 400 naming it', async () => {
  assertError(await post('/assistants', { model: 'gpt-4o', temperature: 'hot' }), 400, 'temperature');
  assertError(await post('/assistants', { model: 'gpt-4o', temperature: 3 }), 400, 'temperature');
  assertError(await post('/assistants', { model: 'gpt-4o', temperature: -0.1 }), 400, 'temperature');
  assertError(await post('/assistants', { model: 'gpt-4o', top_p: 1.5 }), 400, 'top_p');
  assertError(await post('/assistants', { model: 42 }), 400, 'model');
  assertError(await post('/assistants', { model: 'gpt-4o', name: 'n'.repeat(257) }), 400, 'name');
  assertError(await post('/assistants', { model: 'gpt-4o', tools: 'none' }), 400, 'tools');
  assertError(await post('/assistants', { model: 'gpt-4o', metadata: { n: 1 } }), 400, 'metadata.n');
  const thread = await h.client.beta.threads.create();
  assertError(await post(`/threads/${thread.id}/messages`, { role: 'robot', content: 'x' }), 400, 'role');
  assertError(await post(`/threads/${thread.id}/messages`, { role: 'user', content: [] }), 400, 'content');
});

test('a missing required field is a 400 naming it', async () => {
  assertError(await post('/assistants', { name: 'no model' }), 400, 'model', /model/);
  assertError(await raw('POST', '/assistants', { headers: { 'OpenAI-Beta': 'assistants=v2' } }), 400, 'model');
  const thread = await h.client.beta.threads.create();
  assertError(await post(`/threads/${thread.id}/messages`, { content: 'x' }), 400, 'role');
  assertError(await post(`/threads/${thread.id}/messages`, { role: 'user' }), 400, 'content');
});

test('malformed JSON and non-object bodies are 400s', async () => {
  assertError(await raw('POST', '/assistants', { body: '{"model": "gpt-4o",' }), 400, null, /JSON/);
  assertError(await raw('POST', '/assistants', { body: '[1, 2]' }), 400, null);
  assertError(await raw('POST', '/assistants', { body: '"gpt-4o"' }), 400, null);
});

test('a body that is not JSON is rejected as such', async () => {
  for (const contentType of ['text/plain', 'application/x-www-form-urlencoded']) {
    const response = await raw('POST', '/assistants', { body: '{"model":"gpt-4o"}', headers: { 'content-type': contentType, 'OpenAI-Beta': 'assistants=v2' } });
    assertError(response, 415, null, /application\/json/);
  }
  const charset = await raw('POST', '/assistants', { body: '{"model":"gpt-4o"}', headers: { 'content-type': 'application/json; charset=utf-8' } });
  assert.equal(charset.status, 200);
});

test('an oversized body is a 413', async () => {
  const small = await startHarness({ env: { STEPWISE_BODY_LIMIT_BYTES: '1000' } });
  try {
    const response = await fetch(`${small.stepwise.url}/assistants`, {
      method: 'POST',
      headers: JSON_V2,
      body: JSON.stringify({ model: 'gpt-4o', instructions: 'x'.repeat(2000) }),
    });
    assert.equal(response.status, 413);
    const body = (await response.json()) as ErrorBody;
    assert.deepEqual(Object.keys(body.error).sort(), ['code', 'message', 'param', 'type']);
    assert.equal(body.error.type, 'invalid_request_error');
    const fits = await small.client.beta.assistants.create({ model: 'gpt-4o', instructions: 'x'.repeat(100) });
    assert.equal(fits.instructions, 'x'.repeat(100));
  } finally {
    await small.close();
  }
});

test('metadata limits: 16 pairs, 64-character keys, 512-character values', async () => {
  const pairs = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`key${i}`, 'v']));
  assertError(await post('/assistants', { model: 'gpt-4o', metadata: pairs(17) }), 400, 'metadata');
  assertError(await post('/assistants', { model: 'gpt-4o', metadata: { ['k'.repeat(65)]: 'v' } }), 400, 'metadata');
  assertError(await post('/assistants', { model: 'gpt-4o', metadata: { long: 'v'.repeat(513) } }), 400, 'metadata.long');
  const atLimit = { ...pairs(15), ['k'.repeat(64)]: 'v'.repeat(512) };
  const assistant = await h.client.beta.assistants.create({ model: 'gpt-4o', metadata: atLimit });
  assert.deepEqual(assistant.metadata, atLimit);

  assertError(await post(`/assistants/${assistant.id}`, { metadata: pairs(17) }), 400, 'metadata');
  const thread = await h.client.beta.threads.create();
  assertError(await post('/threads', { metadata: pairs(17) }), 400, 'metadata');
  assertError(await post(`/threads/${thread.id}`, { metadata: { ['k'.repeat(65)]: 'v' } }), 400, 'metadata');
  assertError(await post(`/threads/${thread.id}/messages`, { role: 'user', content: 'x', metadata: { v: 'v'.repeat(513) } }), 400, 'metadata.v');
  const message = await h.client.beta.threads.messages.create(thread.id, { role: 'user', content: 'x' });
  assertError(await post(`/threads/${thread.id}/messages/${message.id}`, { metadata: pairs(17) }), 400, 'metadata');
  // Rejected updates change nothing.
  assert.deepEqual((await h.client.beta.assistants.retrieve(assistant.id)).metadata, atLimit);
  assert.deepEqual((await h.client.beta.threads.messages.retrieve(message.id, { thread_id: thread.id })).metadata, {});
});

test('function names must be letters, digits, underscores or dashes, at most 64', async () => {
  const fn = (name: string) => ({ model: 'gpt-4o', tools: [{ type: 'code_interpreter' }, { type: 'function', function: { name } }] });
  assertError(await post('/assistants', fn('bad name!')), 400, 'tools[1].function.name');
  assertError(await post('/assistants', fn('f'.repeat(65))), 400, 'tools[1].function.name');
  const ok = await post('/assistants', fn('get-weather_2'));
  assert.equal(ok.status, 200);
  const id = (ok.body as unknown as { id: string }).id;
  assertError(await post(`/assistants/${id}`, { tools: [{ type: 'function', function: { name: 'no spaces' } }] }), 400, 'tools[0].function.name');
});

test('OpenAI-Beta: assistants=v1 is rejected, assistants=v2 and no header are accepted', async () => {
  const v1 = await raw('GET', '/assistants', { headers: { 'OpenAI-Beta': 'assistants=v1' } });
  const error = assertError(v1, 400, null);
  assert.match(error.message, /assistants=v1/);
  assert.equal((await raw('GET', '/threads/thread_x', { headers: { 'OpenAI-Beta': 'assistants=v1' } })).status, 400);
  assert.equal((await raw('GET', '/assistants', { headers: { 'OpenAI-Beta': 'assistants=v2' } })).status, 200);
  assert.equal((await raw('GET', '/assistants', { headers: { 'OpenAI-Beta': 'other=1, assistants=v2' } })).status, 200);
  assert.equal((await raw('GET', '/assistants', { headers: {} })).status, 200);
});

test('an unknown URL is a 404 error object', async () => {
  const error = assertError(await raw('GET', '/nothing-here', { headers: {} }), 404, null);
  assert.match(error.message, /nothing-here/);
  assertError(await raw('PUT', '/assistants', { headers: {} }), 404, null);
  const outside = await fetch(new URL('/elsewhere', h.stepwise.url));
  assert.equal(outside.status, 404);
  assert.equal(((await outside.json()) as ErrorBody).error.type, 'invalid_request_error');
});

test('every response carries a distinct x-request-id', async () => {
  const ok = await fetch(`${h.stepwise.url}/assistants`);
  const notFound = await fetch(`${h.stepwise.url}/assistants/asst_nope`);
  const badUrl = await fetch(`${h.stepwise.url}/nowhere`);
  const ids = [ok, notFound, badUrl].map((response) => response.headers.get('x-request-id'));
  for (const id of ids) assert.match(id ?? '', /^req_[0-9a-f]{32}$/);
  assert.equal(new Set(ids).size, 3);
  const { response, request_id } = await h.client.beta.assistants.list().withResponse();
  assert.equal(request_id, response.headers.get('x-request-id'));
  assert.match(request_id ?? '', /^req_/);
});

test('SDK errors surface as the right classes with param and code', async () => {
  await assert.rejects(h.client.beta.assistants.retrieve('asst_missing'), (error: unknown) => {
    assert.ok(error instanceof NotFoundError);
    assert.equal(error.status, 404);
    assert.equal(error.code, 'not_found');
    assert.equal(error.param, null);
    assert.equal(error.type, 'invalid_request_error');
    assert.match(error.requestID ?? '', /^req_/);
    return true;
  });
  await assert.rejects(h.client.beta.assistants.create({ model: 'gpt-4o', temperature: 5 }), (error: unknown) => {
    assert.ok(error instanceof BadRequestError);
    assert.equal(error.status, 400);
    assert.equal(error.param, 'temperature');
    assert.equal(error.type, 'invalid_request_error');
    return true;
  });
  await assert.rejects(h.client.beta.assistants.list({ limit: 500 }), (error: unknown) => {
    assert.ok(error instanceof BadRequestError);
    assert.equal(error.param, 'limit');
    assert.equal(error.code, 'integer_out_of_range');
    return true;
  });
  const thread = await h.client.beta.threads.create();
  await assert.rejects(h.client.beta.threads.messages.retrieve('msg_missing', { thread_id: thread.id }), NotFoundError);
});
