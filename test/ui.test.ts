import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import OpenAI from 'openai';
import type { Page } from 'playwright-core';
import { build } from 'vite';
import { launchChromium, screenshotBothWidths } from './support/browser.js';
import { type Harness, startHarness } from './support/harness.js';

/** Screenshots of every view at 1280 px and phone width, for a person to look at (gitignored). */
const SCREENSHOTS = join(import.meta.dirname, '..', 'test-output', 'ui');
/** Generous: the suite must pass on a loaded CI machine. */
const WAIT_MS = 30_000;

let h: Harness;
let browser: Awaited<ReturnType<typeof launchChromium>>;
let page: Page;
let origin: string;
let assistantId: string;
let vectorStoreId: string;

before(async () => {
  // The bundle /ui serves is built from the current source, as `npm run build` does.
  await build({ configFile: join(import.meta.dirname, '..', 'web', 'vite.config.ts'), logLevel: 'warn' });
  h = await startHarness();
  origin = new URL(h.stepwise.url).origin;
  browser = await launchChromium();
  page = await browser.context.newPage();
  page.setDefaultTimeout(WAIT_MS);
});
after(async () => {
  await browser?.close();
  await h?.close();
});

/** Loads the console afresh at `route` (going to another hash of the same page would keep its state). */
async function open(route: string): Promise<void> {
  await page.goto('about:blank');
  await page.goto(`${origin}/ui/#/${route}`);
}
const shoot = (name: string) => screenshotBothWidths(page, SCREENSHOTS, name);

test('creates an assistant with a function tool in the console', async () => {
  await open('assistants/new');
  await page.locator('input[name=name]').fill('Weather bot');
  await page.locator('input[name=model]').fill('gpt-4o-mini');
  await page.locator('textarea[name=instructions]').fill('Answer with the weather.');
  const weather = { name: 'get_weather', description: 'The weather in a city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } };
  // Half-typed JSON cannot be saved: the form would send the last valid value instead.
  await page.locator('textarea[name=functions]').fill('[{"name": ');
  await page.getByText('Fix the JSON above before saving.').waitFor();
  assert.equal(await page.getByRole('button', { name: 'Create assistant' }).isDisabled(), true);
  await page.locator('textarea[name=functions]').fill(JSON.stringify([weather], null, 2));
  await shoot('assistant-editor');
  await page.getByRole('button', { name: 'Create assistant' }).click();
  const row = page.locator('tr', { hasText: 'Weather bot' });
  await row.waitFor();
  assistantId = (await row.getAttribute('data-assistant-id'))!;
  const stored = await h.client.beta.assistants.retrieve(assistantId);
  assert.equal(stored.tools.length, 1);
  const tool = stored.tools[0]!;
  assert.ok(tool.type === 'function');
  assert.equal(tool.function.name, 'get_weather');
  assert.deepEqual(tool.function.parameters, weather.parameters);
  assert.equal(stored.instructions, 'Answer with the weather.');
  await shoot('assistants');
});

test('the playground sends a message with an attached file and streams the answer as it arrives', async () => {
  h.model.script({ text: ['Hello', ' from', ' the', ' playground.'], chunkDelayMs: 400 });
  await open(`playground/${assistantId}`);
  await page.getByText('Attach files').click();
  await page.locator('.playground input[type=file]').setInputFiles({ name: 'greeting.txt', mimeType: 'text/plain', buffer: Buffer.from('Say it warmly.') });
  await page.getByRole('button', { name: 'Attach' }).click();
  await page.getByText('Attached: greeting.txt').waitFor();
  await page.locator('textarea[name=message]').fill('Say hello');
  await page.getByRole('button', { name: 'Send' }).click();
  // The message shows while the model is still writing it, then completes.
  await page.locator('.message-assistant[data-status=in_progress]').waitFor();
  const answer = page.locator('.message-assistant[data-status=completed] .message-text');
  await answer.waitFor();
  assert.equal(await answer.textContent(), 'Hello from the playground.');
  await page.locator('.message-user .attachments a.file-download', { hasText: 'greeting.txt' }).waitFor();
  await page.locator('.run[data-status=completed]').waitFor();
  await shoot('playground');
});

test('a function call waits in requires_action; the output submitted in the form completes the run', async () => {
  h.model.script(
    { toolCalls: [{ name: 'get_weather', arguments: '{"city":"Paris"}' }], usage: { prompt_tokens: 20, completion_tokens: 5 } },
    { text: 'It is sunny in Paris.', usage: { prompt_tokens: 31, completion_tokens: 6 } },
  );
  await open(`playground/${assistantId}`);
  await page.locator('textarea[name=message]').fill('Weather in Paris?');
  await page.getByRole('button', { name: 'Send' }).click();
  const form = page.locator('.tool-outputs-form');
  await form.waitFor();
  await page.locator('.run[data-status=requires_action]').waitFor();
  await form.locator('textarea').fill('{"forecast":"sunny"}');
  await shoot('requires-action');
  await form.getByRole('button', { name: 'Submit tool outputs' }).click();
  const run = page.locator('.run[data-status=completed]');
  await run.waitFor();
  await page.locator('.message-assistant', { hasText: 'It is sunny in Paris.' }).waitFor();
  const steps = run.locator('.step');
  await steps.and(page.locator('[data-status=completed]')).nth(1).waitFor();
  assert.deepEqual(await steps.evaluateAll((items) => items.map((item) => item.getAttribute('data-step-type'))), ['tool_calls', 'message_creation']);
  const toolStep = run.locator('.step[data-step-type=tool_calls]');
  assert.match(await toolStep.locator('.usage').textContent() ?? '', /20 prompt \+ 5 completion = 25 tokens/);
  assert.equal(await toolStep.locator('.function-name').textContent(), 'get_weather');
  assert.match(await toolStep.locator('.tool-output').textContent() ?? '', /sunny/);
  assert.match(await run.locator('.step[data-step-type=message_creation] .usage').textContent() ?? '', /31 prompt \+ 6 completion = 37 tokens/);
  await shoot('run-completed');
});

test('a file uploaded to a vector store reaches completed, and search shows its passage', async () => {
  await open('vector-stores');
  await page.locator('input[name=vector-store-name]').fill('Moon notes');
  await page.getByRole('button', { name: 'Create vector store' }).click();
  await page.getByRole('link', { name: 'Moon notes' }).click();
  await page.locator('input[type=file]').setInputFiles({
    name: 'moons.txt',
    mimeType: 'text/plain',
    buffer: Buffer.from('Io orbits Jupiter in about 42 hours. Europa hides an ocean under its ice.\n'),
  });
  await page.getByRole('button', { name: 'Upload and add' }).click();
  await page.locator('tr[data-status=completed]', { hasText: 'moons.txt' }).waitFor();
  vectorStoreId = decodeURIComponent(new URL(page.url()).hash.split('/').pop()!);
  await page.locator('input[name=search]').fill('Europa ocean');
  await page.getByRole('button', { name: 'Search' }).click();
  const result = page.locator('.search-result').first();
  await result.waitFor();
  assert.equal(await result.locator('strong').textContent(), 'moons.txt');
  assert.match(await result.locator('.passage').textContent() ?? '', /Europa hides an ocean/);
  assert.match(await result.locator('.score').textContent() ?? '', /^score \d\.\d{3}$/);
  await shoot('vector-store');
  await open('vector-stores');
  await page.locator('tr', { hasText: 'Moon notes' }).getByText('1 completed').waitFor();
  await open('files');
  await page.locator('tr', { hasText: 'moons.txt' }).waitFor();
  await shoot('files');
});

test('a thread made through the SDK shows its messages, citations and file_search steps', async () => {
  const assistant = await h.client.beta.assistants.create({ model: 'gpt-4o-mini', name: 'Librarian', tools: [{ type: 'file_search' }], tool_resources: { file_search: { vector_store_ids: [vectorStoreId] } } });
  h.model.script(
    { toolCalls: [{ name: 'file_search', arguments: '{"query":"Europa ocean"}' }] },
    { text: 'Europa has an ocean 【0:0†moons.txt】.' },
  );
  const run = await h.client.beta.threads.createAndRunPoll({ assistant_id: assistant.id, thread: { messages: [{ role: 'user', content: 'What hides under Europa\'s ice?' }], metadata: { source: 'sdk' } } });
  assert.equal(run.status, 'completed');
  await open('threads');
  const row = page.locator(`tr[data-thread-id="${run.thread_id}"]`);
  await row.getByText('source=sdk').waitFor();
  await row.locator('[data-status=completed]').waitFor();
  await shoot('threads');
  await row.getByRole('link').click();
  const timeline = page.locator(`.run[data-run-id="${run.id}"]`);
  await timeline.locator('.step[data-step-type=tool_calls] .search-result').waitFor();
  assert.equal(await timeline.locator('.search-result strong').first().textContent(), 'moons.txt');
  assert.match(await timeline.locator('.search-result .passage').first().textContent() ?? '', /Europa hides an ocean/);
  const answer = page.locator('.message-assistant');
  await answer.locator('.citation .file-name', { hasText: 'moons.txt' }).waitFor();
  assert.equal(await answer.locator('.citation-mark').textContent(), '[1]');
  assert.match(await answer.locator('.citation q').textContent() ?? '', /Europa hides an ocean/);
  // The question, then the run that answered it, then the answer.
  const order = await page.locator('.conversation > *').evaluateAll((items) => items.map((item) => item.className));
  assert.deepEqual(order, ['message message-user', 'run', 'message message-assistant']);
  await page.locator('.message-user', { hasText: "What hides under Europa's ice?" }).waitFor();
  await shoot('thread');
});

test('a code_interpreter step shows its input highlighted, its logs and image, and the answer links the file it wrote', async () => {
  const assistant = await h.client.beta.assistants.create({ model: 'gpt-4o-mini', name: 'Analyst', tools: [{ type: 'code_interpreter' }] });
  const source = [
    'import struct, zlib',
    'def chunk(kind, data): return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))',
    'rows = b"".join(b"\\x00" + bytes([255 if x < y else 0 for x in range(8)]) for y in range(8))',
    'image = b"\\x89PNG\\r\\n\\x1a\\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 8, 8, 8, 0, 0, 0, 0)) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")',
    "open('/mnt/data/chart.png', 'wb').write(image)",
    "open('/mnt/data/report.txt', 'w').write('all good')",
    "print('made', len(image), 'bytes')",
  ].join('\n');
  h.model.script(
    { toolCalls: [{ name: 'code_interpreter', arguments: JSON.stringify({ code: source }) }] },
    { text: 'Here is the chart; the report: sandbox:/mnt/data/report.txt' },
  );
  const run = await h.client.beta.threads.createAndRunPoll({ assistant_id: assistant.id, thread: { messages: [{ role: 'user', content: 'Chart it.' }] } });
  assert.equal(run.status, 'completed', JSON.stringify(run.last_error));
  await open(`threads/${run.thread_id}`);
  const call = page.locator('.tool-call[data-tool=code_interpreter]');
  await call.locator('.hljs-keyword', { hasText: 'import' }).first().waitFor();
  assert.match(await call.locator('.logs').textContent() ?? '', /^made \d+ bytes/);
  // Images come through the SDK with the key, so they load even when the server requires one.
  await page.waitForFunction("[...document.querySelectorAll('img.inline-image')].filter((img) => img.naturalWidth === 8).length === 2");
  const link = page.locator('.message-assistant a.file-download', { hasText: 'report.txt' });
  const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
  assert.equal(download.suggestedFilename(), 'report.txt');
  assert.equal(await readFile((await download.path())!, 'utf8'), 'all good');
  await shoot('code-interpreter');
});

test('a run started elsewhere updates live in its thread, and can be cancelled there', async () => {
  h.model.script({ hang: true });
  const assistant = await h.client.beta.assistants.create({ model: 'gpt-4o-mini', name: 'Slow' });
  const thread = await h.client.beta.threads.create({ messages: [{ role: 'user', content: 'Take your time.' }] });
  const run = await h.client.beta.threads.runs.create(thread.id, { assistant_id: assistant.id });
  await open(`threads/${thread.id}`);
  const timeline = page.locator(`.run[data-run-id="${run.id}"]`);
  await timeline.and(page.locator('[data-status=in_progress]')).waitFor();
  await shoot('run-in-progress');
  await timeline.getByRole('button', { name: 'Cancel run' }).click();
  await timeline.and(page.locator('[data-status=cancelled]')).waitFor();
  assert.equal((await h.client.beta.threads.runs.retrieve(run.id, { thread_id: thread.id })).status, 'cancelled');
});

test('with a wrong API key the console shows the API\'s error, not a blank page', async () => {
  const key = await h.stepwise.apiKeys.create('proj_console', 'console');
  await open('threads');
  const error = page.getByRole('alert');
  await error.getByText('This server needs a valid API key.').waitFor();
  await page.locator('input[name=api-key]').fill('sk-wrong-key-for-the-test');
  await page.getByRole('button', { name: 'Use this key' }).click();
  await error.getByText(/Incorrect API key provided: sk-w\*\*\*\*test/).waitFor();
  await shoot('wrong-key');
  // The right key shows its own project, which holds none of the threads above.
  await page.locator('input[name=api-key]').fill(key.secret);
  await page.getByRole('button', { name: 'Use this key' }).click();
  await page.getByText('No threads.').waitFor();
  assert.equal(await page.evaluate("localStorage.getItem('stepwise.apiKey')"), key.secret);
  assert.ok(!page.url().includes(key.secret));
  await assert.rejects(new OpenAI({ baseURL: h.stepwise.url, apiKey: 'sk-wrong', maxRetries: 0 }).beta.assistants.list(), { status: 401 });
});
