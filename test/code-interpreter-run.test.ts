import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { toFile } from 'openai';
import { assertMatchesSpec, type Harness, startHarness } from './support/harness.js';

let h: Harness;
let assistantId: string;

before(async () => {
  h = await startHarness({ env: { STEPWISE_CODE_TIMEOUT_MS: '5000', STEPWISE_CODE_WARM_POOL: '1' } });
  assistantId = (await h.client.beta.assistants.create({ model: 'gpt-4o', tools: [{ type: 'code_interpreter' }] })).id;
});
after(() => h.close());

const code = (source: string) => ({ name: 'code_interpreter', arguments: JSON.stringify({ code: source }) });

test('a run computes with Python, keeps state between calls, and answers with the result', async () => {
  const thread = await h.client.beta.threads.create({ messages: [{ role: 'user', content: 'What is 2**100, plus one?' }] });
  const before = h.model.requests.length;
  h.model.script({ toolCalls: [code('x = 2**100\nprint(x)')] }, { toolCalls: [code('print(x + 1)')] }, { text: 'It is 1267650600228229401496703205377.' });
  const run = await h.client.beta.threads.runs.createAndPoll(thread.id, { assistant_id: assistantId }, { pollIntervalMs: 20 });
  assert.equal(run.status, 'completed', JSON.stringify(run.last_error));

  const steps = (await h.client.beta.threads.runs.steps.list(run.id, { thread_id: thread.id, order: 'asc' })).data;
  const calls = steps.flatMap((step) => (step.step_details.type === 'tool_calls' ? step.step_details.tool_calls : []));
  for (const step of steps) assertMatchesSpec('RunStepObject', step);
  assert.deepEqual(
    calls.map((call) => (call.type === 'code_interpreter' ? [call.code_interpreter.input, call.code_interpreter.outputs] : [])),
    [
      ['x = 2**100\nprint(x)', [{ type: 'logs', logs: '1267650600228229401496703205376\n' }]],
      ['print(x + 1)', [{ type: 'logs', logs: '1267650600228229401496703205377\n' }]],
    ],
  );
  // The model read the logs back as the tool's output, and was told about the sandbox.
  const second = h.model.requests[before + 1]!.body.messages;
  assert.match(String(second[0]!.content), /code_interpreter tool runs Python/);
  assert.equal(second.find((message) => message.role === 'tool')?.content, '1267650600228229401496703205376\n');
});

test('a run reads an uploaded CSV at /mnt/data/<file id>, and an exception reaches the model as logs', async () => {
  const csv = await h.client.files.create({ file: await toFile(Buffer.from('item,price\napple,3\npear,4\n'), 'prices.csv'), purpose: 'assistants' });
  const thread = await h.client.beta.threads.create({
    messages: [{ role: 'user', content: 'Total price?', attachments: [{ file_id: csv.id, tools: [{ type: 'code_interpreter' }] }] }],
  });
  h.model.script(
    { toolCalls: [code('1/0')] },
    { toolCalls: [code(`import csv\nrows = list(csv.DictReader(open('/mnt/data/${csv.id}')))\nprint(sum(int(r['price']) for r in rows))`)] },
    { text: 'The total is 7.' },
  );
  const run = await h.client.beta.threads.runs.createAndPoll(thread.id, { assistant_id: assistantId }, { pollIntervalMs: 20 });
  assert.equal(run.status, 'completed', JSON.stringify(run.last_error));
  const steps = (await h.client.beta.threads.runs.steps.list(run.id, { thread_id: thread.id, order: 'asc' })).data;
  const logs = steps.flatMap((step) =>
    step.step_details.type === 'tool_calls' ? step.step_details.tool_calls.flatMap((call) => (call.type === 'code_interpreter' ? call.code_interpreter.outputs.map((output) => (output.type === 'logs' ? output.logs : '')) : [])) : [],
  );
  assert.match(logs[0] ?? '', /ZeroDivisionError/);
  assert.equal(logs[1], '7\n');
});

test('a file the code writes comes back as an assistants_output file, linked with a file_path annotation', async () => {
  const thread = await h.client.beta.threads.create({ messages: [{ role: 'user', content: 'Make a report file.' }] });
  h.model.script(
    { toolCalls: [code("open('/mnt/data/report.txt', 'w').write('all good')")] },
    { text: 'Download it: sandbox:/mnt/data/report.txt' },
  );
  const run = await h.client.beta.threads.runs.createAndPoll(thread.id, { assistant_id: assistantId }, { pollIntervalMs: 20 });
  assert.equal(run.status, 'completed', JSON.stringify(run.last_error));
  const [answer] = (await h.client.beta.threads.messages.list(thread.id, { run_id: run.id })).data;
  assertMatchesSpec('MessageObject', answer);
  const text = answer?.content.find((part) => part.type === 'text');
  const annotation = text?.type === 'text' ? text.text.annotations[0] : undefined;
  assert.equal(annotation?.type, 'file_path');
  assert.equal(annotation?.text, 'sandbox:/mnt/data/report.txt');
  const fileId = annotation?.type === 'file_path' ? annotation.file_path.file_id : '';
  const file = await h.client.files.retrieve(fileId);
  assert.equal(file.purpose, 'assistants_output');
  assert.equal(file.filename, 'report.txt');
  assert.equal(await (await h.client.files.content(fileId)).text(), 'all good');
});

test('a PNG the code makes is an image output on the step and an image_file in the answer, downloadable', async () => {
  const thread = await h.client.beta.threads.create({ messages: [{ role: 'user', content: 'Draw a chart.' }] });
  const png = [
    'import struct, zlib',
    'def chunk(kind, data): return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))',
    'rows = b"".join(b"\\x00" + bytes([255 if x < y else 0 for x in range(8)]) for y in range(8))',
    'image = b"\\x89PNG\\r\\n\\x1a\\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 8, 8, 8, 0, 0, 0, 0)) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")',
    "open('/mnt/data/chart.png', 'wb').write(image)",
  ].join('\n');
  h.model.script({ toolCalls: [code(png)] }, { text: 'Here is the chart.' });
  const stream = h.client.beta.threads.runs.stream(thread.id, { assistant_id: assistantId });
  const inputs: string[] = [];
  stream.on('toolCallDelta', (delta) => {
    if (delta.type === 'code_interpreter' && delta.code_interpreter?.input) inputs.push(delta.code_interpreter.input);
  });
  const run = await stream.finalRun();
  assert.equal(run.status, 'completed', JSON.stringify(run.last_error));
  assert.equal(inputs.join(''), png, 'the code streamed as it was generated');

  const steps = (await h.client.beta.threads.runs.steps.list(run.id, { thread_id: thread.id, order: 'asc' })).data;
  const call = steps[0]?.step_details.type === 'tool_calls' ? steps[0].step_details.tool_calls[0] : undefined;
  const image = call?.type === 'code_interpreter' ? call.code_interpreter.outputs.find((output) => output.type === 'image') : undefined;
  const imageId = image?.type === 'image' ? image.image.file_id : '';
  const bytes = Buffer.from(await (await h.client.files.content(imageId)).arrayBuffer());
  assert.deepEqual([...bytes.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const [answer] = (await h.client.beta.threads.messages.list(thread.id, { run_id: run.id })).data;
  assert.deepEqual(answer?.content[0], { type: 'image_file', image_file: { file_id: imageId, detail: 'auto' } });
});

test('a runaway loop times out as logs for the model, and the run goes on with its files copied in again', async () => {
  const notes = await h.client.files.create({ file: await toFile(Buffer.from('still here'), 'notes.txt'), purpose: 'assistants' });
  const thread = await h.client.beta.threads.create({
    messages: [{ role: 'user', content: 'Loop.', attachments: [{ file_id: notes.id, tools: [{ type: 'code_interpreter' }] }] }],
  });
  h.model.script({ toolCalls: [code('while True: pass')] }, { toolCalls: [code(`print(open('/mnt/data/${notes.id}').read())`)] }, { text: 'Done.' });
  const run = await h.client.beta.threads.runs.createAndPoll(thread.id, { assistant_id: assistantId }, { pollIntervalMs: 50 });
  assert.equal(run.status, 'completed', JSON.stringify(run.last_error));
  const steps = (await h.client.beta.threads.runs.steps.list(run.id, { thread_id: thread.id, order: 'asc' })).data;
  const logs = steps.flatMap((step) =>
    step.step_details.type === 'tool_calls' ? step.step_details.tool_calls.flatMap((call) => (call.type === 'code_interpreter' ? call.code_interpreter.outputs.map((output) => (output.type === 'logs' ? output.logs : '')) : [])) : [],
  );
  assert.match(logs[0] ?? '', /timed out after 5 seconds/i);
  assert.match(logs[1] ?? '', /^\[A new Python session was started .* variables and files made before are gone; attached files are in \/mnt\/data again\.\]\nstill here\n$/);
});
