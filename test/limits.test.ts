import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import OpenAI, { BadRequestError, RateLimitError } from 'openai';
import { type Harness, startHarness } from './support/harness.js';

async function withHarness(env: Record<string, string>, body: (h: Harness) => Promise<void>): Promise<void> {
  const h = await startHarness({ env });
  try {
    await body(h);
  } finally {
    await h.close();
  }
}

describe('rate limits per API key', () => {
  test('past the limit a key gets 429 with retry-after, while another key is unaffected', () =>
    withHarness({ STEPWISE_RATE_LIMIT_RPM: '3' }, async (h) => {
      const a = await h.stepwise.apiKeys.create('proj_a', 'a');
      const b = await h.stepwise.apiKeys.create('proj_a', 'b');
      const clientOf = (secret: string) => new OpenAI({ baseURL: h.stepwise.url, apiKey: secret, maxRetries: 0 });
      const first = clientOf(a.secret);
      for (let i = 0; i < 3; i++) await first.beta.assistants.list();
      const refused = await first.beta.assistants.list().catch((error: unknown) => error);
      assert.ok(refused instanceof RateLimitError, String(refused));
      assert.equal(refused.code, 'rate_limit_exceeded');
      assert.ok(Number(refused.headers?.get('retry-after')) > 0, 'retry-after tells the client when to come back');
      assert.match(refused.message, /3 requests per minute/);
      await clientOf(b.secret).beta.assistants.list();
    }));
});

describe('active runs per project', () => {
  test('past the cap a new run is a 429, and once one ends there is room again', () =>
    withHarness({ STEPWISE_MAX_ACTIVE_RUNS: '1' }, async (h) => {
      const assistant = await h.client.beta.assistants.create({ model: 'gpt-4o' });
      const one = await h.client.beta.threads.create({ messages: [{ role: 'user', content: 'one' }] });
      const two = await h.client.beta.threads.create({ messages: [{ role: 'user', content: 'two' }] });
      h.model.script({ hang: true });
      const hanging = await h.client.beta.threads.runs.create(one.id, { assistant_id: assistant.id });
      const refused = await h.client.beta.threads.runs.create(two.id, { assistant_id: assistant.id }).catch((error: unknown) => error);
      assert.ok(refused instanceof RateLimitError, String(refused));
      assert.equal(refused.code, 'too_many_active_runs');
      await assert.rejects(h.client.beta.threads.createAndRun({ assistant_id: assistant.id }), RateLimitError);

      await h.client.beta.threads.runs.cancel(hanging.id, { thread_id: one.id });
      await h.client.beta.threads.runs.poll(hanging.id, { thread_id: one.id }, { pollIntervalMs: 20 });
      h.model.script({ text: 'room again' });
      const run = await h.client.beta.threads.runs.createAndPoll(two.id, { assistant_id: assistant.id }, { pollIntervalMs: 20 });
      assert.equal(run.status, 'completed');
    }));
});

describe('sizes the spec states only in prose', () => {
  const TEXT_MAX = 256_000;

  test('run instructions and message texts: 256,000 characters', () =>
    withHarness({}, async (h) => {
      const assistant = await h.client.beta.assistants.create({ model: 'gpt-4o' });
      const thread = await h.client.beta.threads.create();
      const tooLong = 'word '.repeat(TEXT_MAX / 5) + 'x';
      const refusals: [() => Promise<unknown>, string][] = [
        [() => h.client.beta.threads.messages.create(thread.id, { role: 'user', content: tooLong }), 'content'],
        [() => h.client.beta.threads.messages.create(thread.id, { role: 'user', content: [{ type: 'text', text: 'fine' }, { type: 'text', text: tooLong }] }), 'content[1].text'],
        [() => h.client.beta.threads.create({ messages: [{ role: 'user', content: 'fine' }, { role: 'user', content: tooLong }] }), 'messages[1].content'],
        [() => h.client.beta.threads.runs.create(thread.id, { assistant_id: assistant.id, instructions: tooLong }), 'instructions'],
        [() => h.client.beta.threads.runs.create(thread.id, { assistant_id: assistant.id, additional_instructions: tooLong }), 'additional_instructions'],
        [() => h.client.beta.threads.runs.create(thread.id, { assistant_id: assistant.id, additional_messages: [{ role: 'user', content: tooLong }] }), 'additional_messages[0].content'],
        [() => h.client.beta.threads.createAndRun({ assistant_id: assistant.id, instructions: tooLong }), 'instructions'],
      ];
      for (const [attempt, param] of refusals) {
        const error = await attempt().catch((e: unknown) => e);
        assert.ok(error instanceof BadRequestError, String(error));
        assert.equal(error.param, param);
        assert.equal(error.code, 'string_above_max_length');
        assert.equal(error.type, 'invalid_request_error');
      }
      assert.equal((await h.client.beta.threads.messages.list(thread.id)).data.length, 0, 'nothing refused was stored');
      assert.equal((await h.client.beta.threads.runs.list(thread.id)).data.length, 0);
      const atLimit = await h.client.beta.threads.messages.create(thread.id, { role: 'user', content: 'w'.repeat(TEXT_MAX) });
      assert.equal(atLimit.content[0]?.type === 'text' && atLimit.content[0].text.value.length, TEXT_MAX);
    }));

  test('tools: 128 on an assistant, 20 on a run; file_ids: 2,000 in a batch (the spec)', () =>
    withHarness({}, async (h) => {
      const fn = (i: number) => ({ type: 'function' as const, function: { name: `f${i}` } });
      const tools = (n: number) => Array.from({ length: n }, (_, i) => fn(i));
      const refused = await h.client.beta.assistants.create({ model: 'gpt-4o', tools: tools(129) }).catch((e: unknown) => e);
      assert.ok(refused instanceof BadRequestError && refused.param === 'tools', String(refused));
      const assistant = await h.client.beta.assistants.create({ model: 'gpt-4o', tools: tools(128) });
      assert.equal(assistant.tools.length, 128);
      const thread = await h.client.beta.threads.create();
      const run = await h.client.beta.threads.runs.create(thread.id, { assistant_id: assistant.id, tools: tools(21) }).catch((e: unknown) => e);
      assert.ok(run instanceof BadRequestError && run.param === 'tools', String(run));
      const store = await h.client.vectorStores.create({ name: 'batch' });
      const batch = await h.client.vectorStores.fileBatches.create(store.id, { file_ids: Array.from({ length: 2001 }, (_, i) => `file-${i}`) }).catch((e: unknown) => e);
      assert.ok(batch instanceof BadRequestError && batch.param === 'file_ids', String(batch));
    }));
});

describe("a project's files: count and total bytes", () => {
  const upload = (client: OpenAI, bytes: number, name = 'f.txt') => client.files.create({ file: new File([Buffer.alloc(bytes, 97)], name), purpose: 'assistants' });

  test('past the storage limit an upload is a 400 storage_limit_exceeded, and deleting makes room', () =>
    withHarness({ STEPWISE_MAX_PROJECT_STORAGE_BYTES: '1000' }, async (h) => {
      const first = await upload(h.client, 600);
      await upload(h.client, 400);
      const refused = await upload(h.client, 1).catch((e: unknown) => e);
      assert.ok(refused instanceof BadRequestError, String(refused));
      assert.equal(refused.code, 'storage_limit_exceeded');
      assert.equal(refused.type, 'invalid_request_error');
      assert.match(refused.message, /1000 bytes/);
      assert.equal((await h.client.files.list()).data.length, 2, 'the refused file is not kept');
      const tooBig = await h.client.uploads.create({ filename: 'big.txt', purpose: 'assistants', bytes: 10, mime_type: 'text/plain' }).catch((e: unknown) => e);
      assert.ok(tooBig instanceof BadRequestError && tooBig.code === 'storage_limit_exceeded' && tooBig.param === 'bytes', String(tooBig));

      await h.client.files.delete(first.id);
      await upload(h.client, 600);
      // Another project has its own room.
      const other = new OpenAI({ baseURL: h.stepwise.url, apiKey: (await h.stepwise.apiKeys.create('proj_other')).secret, maxRetries: 0 });
      await upload(other, 1000);
    }));

  test('past the file limit an upload is a 400 file_limit_exceeded, also for completed uploads', () =>
    withHarness({ STEPWISE_MAX_PROJECT_FILES: '2' }, async (h) => {
      const created = await h.client.uploads.create({ filename: 'u.txt', purpose: 'assistants', bytes: 3, mime_type: 'text/plain' });
      const part = await h.client.uploads.parts.create(created.id, { data: new File([Buffer.from('abc')], 'part') });
      await upload(h.client, 5, 'a.txt');
      await upload(h.client, 5, 'b.txt');
      for (const attempt of [() => upload(h.client, 5, 'c.txt'), () => h.client.uploads.complete(created.id, { part_ids: [part.id] })]) {
        const refused = await attempt().catch((e: unknown) => e);
        assert.ok(refused instanceof BadRequestError, String(refused));
        assert.equal(refused.code, 'file_limit_exceeded');
      }
      assert.equal((await h.client.files.list()).data.length, 2);
    }));
});
