import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import OpenAI, { RateLimitError } from 'openai';
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
