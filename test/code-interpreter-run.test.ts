import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { toFile } from 'openai';
import { assertMatchesSpec, type Harness, ManualClock, startHarness } from './support/harness.js';

let h: Harness;
let assistantId: string;
const clock = new ManualClock();

before(async () => {
  h = await startHarness({ clock, env: { STEPWISE_CODE_TIMEOUT_MS: '5000', STEPWISE_CODE_WARM_POOL: '2', STEPWISE_CODE_MAX_SESSIONS: '3' } });
  assistantId = (await h.client.beta.assistants.create({ model: 'gpt-4o', tools: [{ type: 'code_interpreter' }] })).id;
});
after(() => h.close());

const code = (source: string) => ({ name: 'code_interpreter', arguments: JSON.stringify({ code: source }) });

/** The logs of each code_interpreter call of the run, in order. */
async function callLogs(threadId: string, runId: string): Promise<string[]> {
  const steps = (await h.client.beta.threads.runs.steps.list(runId, { thread_id: threadId, order: 'asc' })).data;
  return steps.flatMap((step) =>
    step.step_details.type === 'tool_calls' ? step.step_details.tool_calls.flatMap((call) => (call.type === 'code_interpreter' ? call.code_interpreter.outputs.map((output) => (output.type === 'logs' ? output.logs : '')) : [])) : [],
  );
}

/** Runs `sources` as the code_interpreter calls of one run on the thread, answered with `answer`. */
async function runCode(threadId: string, sources: string[], answer = 'Done.') {
  h.model.script(...sources.map((source) => ({ toolCalls: [code(source)] })), { text: answer });
  const run = await h.client.beta.threads.runs.createAndPoll(threadId, { assistant_id: assistantId }, { pollIntervalMs: 20 });
  assert.equal(run.status, 'completed', JSON.stringify(run.last_error));
  return { run, logs: await callLogs(threadId, run.id) };
}

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
  const logs = await callLogs(thread.id, run.id);
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
  const logs = await callLogs(thread.id, run.id);
  assert.match(logs[0] ?? '', /timed out after 5 seconds/i);
  assert.match(logs[1] ?? '', /^\[A new Python session was started .* variables and files made before are gone; attached files are in \/mnt\/data again\.\]\nstill here\n$/);
});

test('pandas reads an attached CSV and the model gets the computed numbers', async () => {
  const csv = await h.client.files.create({ file: await toFile(Buffer.from('region,sales\nnorth,120.5\nsouth,80\nnorth,30\n'), 'sales.csv'), purpose: 'assistants' });
  const thread = await h.client.beta.threads.create({
    messages: [{ role: 'user', content: 'Sales by region?', attachments: [{ file_id: csv.id, tools: [{ type: 'code_interpreter' }] }] }],
  });
  const before = h.model.requests.length;
  const { logs } = await runCode(thread.id, [`import pandas as pd\ndf = pd.read_csv('/mnt/data/${csv.id}')\ndf.groupby('region')['sales'].sum()`]);
  assert.match(logs[0] ?? '', /north\s+150\.5\nsouth\s+80\.0\nName: sales, dtype: float64/);
  const toModel = h.model.requests[before + 1]!.body.messages.find((message) => message.role === 'tool');
  assert.match(String(toModel?.content), /north\s+150\.5/);
});

test('a matplotlib chart shown with plt.show() is an image output and an image_file of the answer; a written xlsx comes back as a file', async () => {
  const thread = await h.client.beta.threads.create({ messages: [{ role: 'user', content: 'Chart and spreadsheet, please.' }] });
  const { run } = await runCode(
    thread.id,
    [
      'import matplotlib.pyplot as plt\nimport pandas as pd\ndf = pd.DataFrame({"month": ["jan", "feb", "mar"], "sales": [3, 7, 5]})\nplt.bar(df.month, df.sales)\nplt.title("Sales")\nplt.show()',
      "df.to_excel('/mnt/data/sales.xlsx', index=False)",
    ],
    'See the chart; the table is at sandbox:/mnt/data/sales.xlsx',
  );
  const steps = (await h.client.beta.threads.runs.steps.list(run.id, { thread_id: thread.id, order: 'asc' })).data;
  const outputs = steps.flatMap((step) => (step.step_details.type === 'tool_calls' ? step.step_details.tool_calls.flatMap((call) => (call.type === 'code_interpreter' ? [call.code_interpreter.outputs] : [])) : []));
  const image = outputs[0]?.find((output) => output.type === 'image');
  const imageId = image?.type === 'image' ? image.image.file_id : '';
  const png = Buffer.from(await (await h.client.files.content(imageId)).arrayBuffer());
  assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  assert.ok(png.length > 5000, 'a real chart, not an empty image');

  const [answer] = (await h.client.beta.threads.messages.list(thread.id, { run_id: run.id })).data;
  assert.deepEqual(answer?.content[0], { type: 'image_file', image_file: { file_id: imageId, detail: 'auto' } });
  const text = answer?.content.find((part) => part.type === 'text');
  const link = text?.type === 'text' ? text.text.annotations.find((annotation) => annotation.type === 'file_path') : undefined;
  const xlsxId = link?.type === 'file_path' ? link.file_path.file_id : '';
  assert.equal((await h.client.files.retrieve(xlsxId)).filename, 'sales.xlsx');
  const xlsx = Buffer.from(await (await h.client.files.content(xlsxId)).arrayBuffer());
  assert.equal(xlsx.subarray(0, 2).toString(), 'PK', 'an xlsx (zip) file');
});

test("a thread's later run sees the variables of its earlier runs; another thread does not", async () => {
  const thread = await h.client.beta.threads.create({ messages: [{ role: 'user', content: 'Remember 42.' }] });
  await runCode(thread.id, ["remembered = 42\nopen('/mnt/data/note.txt', 'w').write('kept')"]);
  await h.client.beta.threads.messages.create(thread.id, { role: 'user', content: 'What was it?' });
  const { logs } = await runCode(thread.id, ["print(remembered, open('/mnt/data/note.txt').read())"]);
  assert.equal(logs[0], '42 kept\n');

  const other = await h.client.beta.threads.create({ messages: [{ role: 'user', content: 'And here?' }] });
  const { logs: otherLogs } = await runCode(other.id, ["import os\nprint('remembered' in globals(), os.path.exists('/mnt/data/note.txt'))"]);
  assert.equal(otherLogs[0], 'False False\n');
});

test("an idle session is closed after its idle time, and the thread's next call says its state is gone", async () => {
  const thread = await h.client.beta.threads.create({ messages: [{ role: 'user', content: 'Remember 7.' }] });
  await runCode(thread.id, ['remembered = 7']);
  clock.advanceSeconds(59 * 60);
  await h.client.beta.threads.messages.create(thread.id, { role: 'user', content: 'Still there?' });
  assert.equal((await runCode(thread.id, ['print(remembered)'])).logs[0], '7\n', 'not idle for an hour yet');
  clock.advanceSeconds(61 * 60);
  await h.client.beta.threads.messages.create(thread.id, { role: 'user', content: 'And now?' });
  const { logs } = await runCode(thread.id, ["print('remembered' in globals())"]);
  assert.equal(logs[0], "[A new Python session was started because this thread's previous one was closed after 60 minutes without use: variables and files made before are gone; attached files are in /mnt/data again.]\nFalse\n");
});

test('past the most live sessions, the least recently used one is closed first', async () => {
  const threads = await Promise.all([1, 2, 3].map((n) => h.client.beta.threads.create({ messages: [{ role: 'user', content: `Thread ${n}.` }] })));
  for (const thread of threads) await runCode(thread.id, [`mine = '${thread.id}'`]);
  // Thread 0 is used again, so thread 1 is now the least recently used; a fourth thread pushes it out.
  await h.client.beta.threads.messages.create(threads[0]!.id, { role: 'user', content: 'Again.' });
  await runCode(threads[0]!.id, ['pass']);
  await runCode((await h.client.beta.threads.create({ messages: [{ role: 'user', content: 'Thread 4.' }] })).id, ['pass']);
  const again = async (index: number) => {
    await h.client.beta.threads.messages.create(threads[index]!.id, { role: 'user', content: 'Still there?' });
    return (await runCode(threads[index]!.id, ["print(globals().get('mine'))"])).logs[0];
  };
  assert.equal(await again(0), `${threads[0]!.id}\n`);
  assert.equal(await again(1), `[A new Python session was started because this thread's previous one was closed to make room for newer sessions on this server: variables and files made before are gone; attached files are in /mnt/data again.]\nNone\n`);
});

test('without the jail, a code_interpreter call gets a tool output saying how to install it, and nothing runs', async () => {
  const jailless = await startHarness({ env: { STEPWISE_CODE_BWRAP: join(h.dataDir, 'no-bwrap-here'), STEPWISE_CODE_WARM_POOL: '1' } });
  try {
    const assistant = await jailless.client.beta.assistants.create({ model: 'gpt-4o', tools: [{ type: 'code_interpreter' }] });
    const thread = await jailless.client.beta.threads.create({ messages: [{ role: 'user', content: 'Compute.' }] });
    jailless.model.script({ toolCalls: [code("open('/tmp/ran', 'w')\nprint(6 * 7)")] }, { text: 'The sandbox is not installed.' });
    const run = await jailless.client.beta.threads.runs.createAndPoll(thread.id, { assistant_id: assistant.id }, { pollIntervalMs: 20 });
    assert.equal(run.status, 'completed', JSON.stringify(run.last_error));
    const steps = (await jailless.client.beta.threads.runs.steps.list(run.id, { thread_id: thread.id, order: 'asc' })).data;
    const call = steps[0]?.step_details.type === 'tool_calls' ? steps[0].step_details.tool_calls[0] : undefined;
    const outputs = call?.type === 'code_interpreter' ? call.code_interpreter.outputs : [];
    assert.equal(outputs.length, 1);
    const logs = outputs[0]?.type === 'logs' ? outputs[0].logs : '';
    assert.match(logs, /^code_interpreter is unavailable: the Python sandbox .* does not work on this host/);
    assert.match(logs, /Nothing runs outside the sandbox; to install it on Debian or Ubuntu: sudo apt-get install --no-install-recommends bubblewrap python3 /);
    assert.doesNotMatch(logs, /42/);
    assert.equal(steps.length, 2, 'the model read the output and answered');
  } finally {
    await jailless.close();
  }
});
