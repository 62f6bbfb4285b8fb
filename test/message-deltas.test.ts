import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import OpenAI, { toFile } from 'openai';
import type { ImageFile, Message, MessageDelta, Text } from 'openai/resources/beta/threads/messages';
import type { Run } from 'openai/resources/beta/threads/runs';
import OpenAIv4 from 'openai-v4';
import { assertMatchesSpec, type Harness, startHarness } from './support/harness.js';

/** What these tests use of an SDK's AssistantStream, alike in openai 4 and 7. */
interface RunStream {
  on(event: 'event', listener: (event: { event: string; data: unknown }) => void): unknown;
  on(event: 'messageDelta', listener: (delta: MessageDelta, snapshot: Message) => void): unknown;
  on(event: 'messageDone', listener: (message: Message) => void): unknown;
  on(event: 'textDone', listener: (text: Text) => void): unknown;
  on(event: 'imageFileDone', listener: (image: ImageFile) => void): unknown;
  finalRun(): Promise<Run>;
  finalMessages(): Promise<Message[]>;
}

interface StreamingClient {
  beta: { threads: { runs: { stream(threadId: string, body: { assistant_id: string }): RunStream } } };
}

// Most deployed apps still pin openai 4, whose AssistantStream builds messages from the deltas alone.
const SDKS: { sdk: string; connect: (baseURL: string) => StreamingClient }[] = [
  { sdk: 'openai 7', connect: (baseURL) => new OpenAI({ baseURL, apiKey: 'sk-test', maxRetries: 0 }) },
  { sdk: 'openai 4', connect: (baseURL) => new OpenAIv4({ baseURL, apiKey: 'sk-test', maxRetries: 0 }) },
];

let h: Harness;
let searchAssistant: string;
let codeAssistant: string;

before(async () => {
  h = await startHarness();
  const store = await h.client.vectorStores.create({ name: 'landmarks' });
  await h.client.vectorStores.fileBatches.uploadAndPoll(store.id, {
    files: [
      await toFile(Buffer.from('The Colosseum stands in Rome. It was completed in 80 AD.'), 'rome.txt'),
      await toFile(Buffer.from('The Eiffel Tower stands in Paris. It was completed in 1889.'), 'paris.txt'),
    ],
  });
  const tools = { file_search: { vector_store_ids: [store.id] } };
  searchAssistant = (await h.client.beta.assistants.create({ model: 'gpt-4o', tools: [{ type: 'file_search' }], tool_resources: tools })).id;
  codeAssistant = (await h.client.beta.assistants.create({ model: 'gpt-4o', tools: [{ type: 'code_interpreter' }] })).id;
});
after(() => h.close());

/** What a client saw of one streamed run: each message as built from its deltas, and the SDK's callbacks. */
async function streamRun(client: StreamingClient, assistantId: string, question: string) {
  const thread = await h.client.beta.threads.create({ messages: [{ role: 'user', content: question }] });
  const stream = client.beta.threads.runs.stream(thread.id, { assistant_id: assistantId });
  const assembled = new Map<string, Message>();
  const deltas: MessageDelta[] = [];
  const completed: Message[] = [];
  const textDone: Text[] = [];
  const imageFileDone: ImageFile[] = [];
  stream.on('event', ({ event, data }) => {
    if (event === 'thread.message.delta') assertMatchesSpec('MessageDeltaObject', data);
  });
  stream.on('messageDelta', (delta, snapshot) => {
    // The SDKs go on accumulating into the objects they hand out, so keep them as they were.
    deltas.push(structuredClone(delta));
    assembled.set(snapshot.id, structuredClone(snapshot));
  });
  stream.on('messageDone', (message) => completed.push(message));
  stream.on('textDone', (text) => textDone.push(text));
  stream.on('imageFileDone', (image) => imageFileDone.push(image));
  const run = await stream.finalRun();
  assert.equal(run.status, 'completed', JSON.stringify(run.last_error));
  return { thread, assembled: [...assembled.values()], final: await stream.finalMessages(), deltas, completed, textDone, imageFileDone };
}

/** The SDKs keep the `index` that addresses each delta entry (content parts, annotations) in what they build. */
function withoutDeltaIndexes(content: Message['content']): unknown {
  return JSON.parse(JSON.stringify(content), (key, value: unknown) => (key === 'index' ? undefined : value));
}

/** The stream's messages, built from deltas, are the completed message, which is the stored one. */
async function assertDeltasDescribe(seen: Awaited<ReturnType<typeof streamRun>>): Promise<Message> {
  assert.equal(seen.completed.length, 1);
  const message = seen.completed[0]!;
  assert.deepEqual(await h.client.beta.threads.messages.retrieve(message.id, { thread_id: seen.thread.id }), message);
  assert.deepEqual(seen.assembled.map((built) => [built.id, withoutDeltaIndexes(built.content)]), [[message.id, message.content]], 'the deltas add up to the message');
  assert.deepEqual(seen.final.map((built) => [built.id, withoutDeltaIndexes(built.content)]), [[message.id, message.content]], 'finalMessages()');
  const text = message.content.find((part) => part.type === 'text');
  assert.deepEqual(seen.textDone, text?.type === 'text' ? [text.text] : [], 'textDone once');
  assert.deepEqual(seen.imageFileDone, message.content.flatMap((part) => (part.type === 'image_file' ? [part.image_file] : [])), 'imageFileDone once per image');
  return message;
}

/** The annotations the deltas carried, with the text of the delta that carried each. */
function streamedAnnotations(deltas: MessageDelta[]): { value: string; annotations: unknown[] }[] {
  return deltas.flatMap((delta) =>
    (delta.content ?? []).flatMap((part) => (part.type === 'text' && part.text?.annotations?.length ? [{ value: part.text.value ?? '', annotations: part.text.annotations }] : [])),
  );
}

for (const { sdk, connect } of SDKS) {
  test(`${sdk}: a file_search answer streams its citations, a marker split over three deltas as one annotation`, async () => {
    h.model.script(
      { toolCalls: [{ name: 'file_search', arguments: '{"query":"stands completed"}' }] },
      { text: ['The Colosseum was completed in 80 AD ', '【0', ':0†rome', '.txt】 and the Eiffel Tower in 1889 【0:1†paris.txt】.'] },
    );
    const seen = await streamRun(connect(h.stepwise.url), searchAssistant, 'When were they completed?');
    const message = await assertDeltasDescribe(seen);
    const text = message.content[0]?.type === 'text' ? message.content[0].text : undefined;
    assert.equal(text?.value, 'The Colosseum was completed in 80 AD 【0:0†rome.txt】 and the Eiffel Tower in 1889 【0:1†paris.txt】.');
    assert.deepEqual(text?.annotations.map((annotation) => [annotation.type, annotation.text]), [
      ['file_citation', '【0:0†rome.txt】'],
      ['file_citation', '【0:1†paris.txt】'],
    ]);
    // Each annotation came once, in the delta whose text completed its marker.
    assert.deepEqual(streamedAnnotations(seen.deltas), [
      { value: '【0:0†rome.txt】 and the Eiffel Tower in 1889 【0:1†paris.txt】.', annotations: text?.annotations.map((annotation, index) => ({ index, ...annotation })) },
    ]);
  });

  test(`${sdk}: a code_interpreter answer streams its two images first, then its text with the sandbox link`, async () => {
    const png = (name: string) => `open('/mnt/data/${name}', 'wb').write(b'\\x89PNG\\r\\n\\x1a\\n' + b'${name}')`;
    const source = [png('first.png'), png('second.png'), "open('/mnt/data/data.csv', 'w').write('x,y\\n1,2\\n')"].join('\n');
    h.model.script(
      { toolCalls: [{ name: 'code_interpreter', arguments: JSON.stringify({ code: source }) }] },
      { text: ['Here are both charts. Download the data: [data.csv](sand', 'box:/mnt/da', 'ta/data.csv).'] },
    );
    const seen = await streamRun(connect(h.stepwise.url), codeAssistant, 'Chart it twice.');
    const message = await assertDeltasDescribe(seen);
    assert.deepEqual(message.content.map((part) => part.type), ['image_file', 'image_file', 'text']);
    const text = message.content[2]?.type === 'text' ? message.content[2].text : undefined;
    assert.deepEqual(text?.annotations.map((annotation) => [annotation.type, annotation.text]), [['file_path', 'sandbox:/mnt/data/data.csv']]);
    assert.deepEqual(streamedAnnotations(seen.deltas), [{ value: 'sandbox:/mnt/data/data.csv).', annotations: text?.annotations.map((annotation, index) => ({ index, ...annotation })) }]);
  });
}

test('text the model leaves inside an unfinished marker still streams when the answer ends, as plain text', async () => {
  h.model.script({ toolCalls: [{ name: 'file_search', arguments: '{"query":"Rome"}' }] }, { text: ['The Colosseum ', '【0:0†ro'] });
  const seen = await streamRun(h.client, searchAssistant, 'What stands in Rome?');
  const message = await assertDeltasDescribe(seen);
  assert.deepEqual(message.content, [{ type: 'text', text: { value: 'The Colosseum 【0:0†ro', annotations: [] } }]);
});
