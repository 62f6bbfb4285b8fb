import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { loadConfig } from '../src/config.js';
import { type Harness, startHarness } from './support/harness.js';
import { ScriptedModel } from './support/scripted-model.js';

const dir = mkdtempSync(join(tmpdir(), 'stepwise-config-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function configFile(name: string, content: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify(content));
  return path;
}

/** A harness whose config file (made from the second model server's URL) routes to that server. */
function withSecondServer(name: string, config: (url: string) => unknown): { harness: () => Harness; server: () => ScriptedModel } {
  let server: ScriptedModel;
  let h: Harness;
  before(async () => {
    server = await ScriptedModel.start();
    h = await startHarness({ env: { STEPWISE_CONFIG: configFile(name, config(server.url)) } });
  });
  after(async () => {
    await h.close();
    await server.close();
  });
  return { harness: () => h, server: () => server };
}

describe('model routing from the config file', () => {
  const setup = withSecondServer('routing.json', (url) => ({
    providers: { local: { baseURL: url, apiKey: 'local-key' } },
    models: { 'gpt-4o': { provider: 'local', model: 'qwen2.5-7b' } },
  }));

  test('a routed model goes to its provider under its upstream name, others to the default provider', async () => {
    const [h, local] = [setup.harness(), setup.server()];
    local.script({ text: 'from local' });
    h.model.script({ text: 'from default' });
    const routed = await h.client.beta.assistants.create({ model: 'gpt-4o' });
    const unrouted = await h.client.beta.assistants.create({ model: 'llama3' });
    const a = await h.client.beta.threads.createAndRunPoll({ assistant_id: routed.id, thread: { messages: [{ role: 'user', content: 'hi' }] } }, { pollIntervalMs: 20 });
    const b = await h.client.beta.threads.createAndRunPoll({ assistant_id: unrouted.id, thread: { messages: [{ role: 'user', content: 'hi' }] } }, { pollIntervalMs: 20 });
    assert.equal(a.status, 'completed');
    assert.equal(b.status, 'completed');
    assert.equal(a.model, 'gpt-4o', 'the run shows the model name the client asked for');
    assert.equal(local.requests[0]?.body.model, 'qwen2.5-7b');
    assert.equal(local.requests[0]?.headers.authorization, 'Bearer local-key');
    assert.equal(h.model.requests[0]?.body.model, 'llama3');
    assert.equal(h.model.requests[0]?.headers.authorization, 'Bearer test-key');
  });
});

describe('Azure OpenAI', () => {
  const setup = withSecondServer('azure.json', (url) => ({
    providers: { azure: { type: 'azure', endpoint: url.replace(/\/v1$/, ''), apiVersion: '2024-10-21', apiKey: 'azure-key' } },
    models: { 'gpt-4o': { provider: 'azure', deployment: 'prod-gpt4o' } },
  }));

  test('calls the model\'s deployment with the api-version and the api-key header', async () => {
    const [h, azure] = [setup.harness(), setup.server()];
    azure.script({ text: 'from Azure' });
    const assistant = await h.client.beta.assistants.create({ model: 'gpt-4o' });
    const run = await h.client.beta.threads.createAndRunPoll({ assistant_id: assistant.id, thread: { messages: [{ role: 'user', content: 'hi' }] } }, { pollIntervalMs: 20 });
    assert.equal(run.status, 'completed');
    const [request] = azure.requests;
    assert.equal(request?.url, '/openai/deployments/prod-gpt4o/chat/completions?api-version=2024-10-21');
    assert.equal(request?.headers['api-key'], 'azure-key');
    assert.equal(request?.headers.authorization, undefined);
  });
});

describe('a model server that never answers', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ env: { STEPWISE_MODEL_TIMEOUT_MS: '200', STEPWISE_MODEL_MAX_RETRIES: '1' } });
  });
  after(() => h.close());

  test('times out, is retried, then fails the run with server_error', async () => {
    h.model.script({ hang: true }, { hang: true });
    const assistant = await h.client.beta.assistants.create({ model: 'gpt-4o' });
    const run = await h.client.beta.threads.createAndRunPoll({ assistant_id: assistant.id, thread: { messages: [{ role: 'user', content: 'hi' }] } }, { pollIntervalMs: 20 });
    assert.equal(run.status, 'failed');
    assert.equal(run.last_error?.code, 'server_error');
    assert.ok(run.failed_at !== null);
    assert.equal(h.model.requests.length, 2, 'one try and one retry');
  });
});

test('the config refuses routes to providers it does not define', () => {
  const path = configFile('bad.json', { models: { 'gpt-4o': { provider: 'nowhere' } } });
  assert.throws(() => loadConfig({ STEPWISE_CONFIG: path }), /unknown provider "nowhere"/);
  assert.throws(() => loadConfig({ STEPWISE_CONFIG: join(dir, 'missing.json') }), /cannot read STEPWISE_CONFIG/);
  assert.throws(() => loadConfig({ PORT: 'eighty' }), /PORT must be a non-negative integer/);
  assert.throws(() => loadConfig({ STEPWISE_CONFIG: configFile('azure-bad.json', { providers: { a: { type: 'azure', endpoint: 'https://x' } } }) }), /needs an endpoint and an apiVersion/);
  assert.throws(() => loadConfig({ STEPWISE_CONFIG: configFile('type-bad.json', { providers: { a: { type: 'bedrock', baseURL: 'https://x' } } }) }), /unknown type "bedrock"/);
  assert.throws(() => loadConfig({ STEPWISE_CONFIG: configFile('tools-bad.json', { models: { m: { tools: 'no' } } }) }), /"tools" must be true or false/);
});
