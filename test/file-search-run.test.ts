import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { toFile } from 'openai';
import { assertMatchesSpec, eventually, type Harness, startHarness } from './support/harness.js';

let h: Harness;
let parisFile: string;
let vectorStoreId: string;
let assistantId: string;

const CONTENT = 'step_details.tool_calls[*].file_search.results[*].content' as const;

before(async () => {
  h = await startHarness({ env: { STEPWISE_EMBEDDING_MODEL: 'embed-1' } });
  const upload = async (name: string, text: string) => (await h.client.files.create({ file: await toFile(Buffer.from(text), name), purpose: 'assistants' })).id;
  parisFile = await upload('paris.txt', 'The Eiffel Tower stands in Paris. Its construction was completed in 1889 for the World Fair.');
  const romeFile = await upload('rome.txt', 'The Colosseum stands in Rome. Its construction was completed in 80 AD under Emperor Titus.');
  const store = await h.client.vectorStores.create({ name: 'landmarks', file_ids: [parisFile, romeFile] });
  vectorStoreId = store.id;
  await eventually(async () => ((await h.client.vectorStores.retrieve(store.id)).status === 'completed' ? true : undefined));
  const assistant = await h.client.beta.assistants.create({
    model: 'gpt-4o',
    instructions: 'Answer from the files.',
    tools: [{ type: 'file_search' }],
    tool_resources: { file_search: { vector_store_ids: [vectorStoreId] } },
  });
  assistantId = assistant.id;
});
after(() => h.close());

test('a run searches the files, records the results on its step, and answers with file citations', async () => {
  const thread = await h.client.beta.threads.create({ messages: [{ role: 'user', content: 'When was the Eiffel Tower completed?' }] });
  const requestsBefore = h.model.requests.length;
  h.model.script(
    { toolCalls: [{ name: 'file_search', arguments: '{"query":"Eiffel Tower completed"}' }] },
    { text: 'It was completed in 1889 【0:0†paris.txt】.' },
  );
  const run = await h.client.beta.threads.runs.createAndPoll(thread.id, { assistant_id: assistantId }, { pollIntervalMs: 20 });
  assert.equal(run.status, 'completed', JSON.stringify(run.last_error));

  // The model was offered the hosted tool as a function, with instructions on citing.
  const [first, second] = h.model.requests.slice(requestsBefore);
  assert.ok(first!.body.tools?.some((tool) => (tool as { function: { name: string } }).function.name === 'file_search'));
  assert.match(String(first!.body.messages[0]!.content), /cite it/);
  // Its second call read the passages under their citation markers.
  const toolMessage = second!.body.messages.find((message) => message.role === 'tool');
  assert.match(String(toolMessage?.content), /【0:0†paris\.txt】\nThe Eiffel Tower stands in Paris/);

  const steps = await h.client.beta.threads.runs.steps.list(run.id, { thread_id: thread.id, order: 'asc' });
  const toolStep = steps.data[0]!;
  assertMatchesSpec('RunStepObject', toolStep);
  assert.equal(toolStep.status, 'completed');
  assert.ok(toolStep.usage && toolStep.usage.total_tokens > 0);
  const call = toolStep.step_details.type === 'tool_calls' ? toolStep.step_details.tool_calls[0] : undefined;
  assert.equal(call?.type, 'file_search');
  const results = call?.type === 'file_search' ? call.file_search.results ?? [] : [];
  assert.equal(results[0]?.file_id, parisFile, 'the Paris file ranks first');
  assert.equal(results[0]?.file_name, 'paris.txt');
  assert.ok(results.every((result) => result.score >= 0 && result.score <= 1));
  assert.equal(results[0]?.content, undefined, 'passages only with include[]');

  const included = await h.client.beta.threads.runs.steps.retrieve(toolStep.id, { thread_id: thread.id, run_id: run.id, include: [CONTENT] });
  const includedCall = included.step_details.type === 'tool_calls' ? included.step_details.tool_calls[0] : undefined;
  assert.match(includedCall?.type === 'file_search' ? includedCall.file_search.results?.[0]?.content?.[0]?.text ?? '' : '', /1889/);

  const [answer] = (await h.client.beta.threads.messages.list(thread.id, { run_id: run.id })).data;
  assertMatchesSpec('MessageObject', answer);
  const text = answer?.content[0]?.type === 'text' ? answer.content[0].text : undefined;
  assert.equal(text?.value, 'It was completed in 1889 【0:0†paris.txt】.');
  assert.deepEqual(text?.annotations, [
    { type: 'file_citation', text: '【0:0†paris.txt】', file_citation: { file_id: parisFile }, start_index: 25, end_index: 40 },
  ]);
  assert.equal(text!.value.slice(25, 40), '【0:0†paris.txt】');
});

test('a streamed file_search run passes the SDK stream checks and shows the hosted call', async () => {
  const thread = await h.client.beta.threads.create({ messages: [{ role: 'user', content: 'What stands in Rome?' }] });
  h.model.script({ toolCalls: [{ name: 'file_search', arguments: '{"query":"Rome"}' }] }, { text: 'The Colosseum 【0:0†rome.txt】.' });
  const stream = h.client.beta.threads.runs.stream(thread.id, { assistant_id: assistantId });
  const toolTypes: string[] = [];
  stream.on('toolCallCreated', (call) => toolTypes.push(call.type));
  const run = await stream.finalRun();
  assert.equal(run.status, 'completed', JSON.stringify(run.last_error));
  assert.deepEqual(toolTypes, ['file_search']);
  const [message] = await stream.finalMessages();
  const annotation = message?.content[0]?.type === 'text' ? message.content[0].text.annotations[0] : undefined;
  assert.equal(annotation?.type, 'file_citation');
});

test('a file_search run with no vector stores answers from no passages, and a bad marker cites nothing', async () => {
  const bare = await h.client.beta.assistants.create({ model: 'gpt-4o', tools: [{ type: 'file_search' }] });
  const thread = await h.client.beta.threads.create({ messages: [{ role: 'user', content: 'Anything?' }] });
  const before = h.model.requests.length;
  h.model.script({ toolCalls: [{ name: 'file_search', arguments: 'not json' }] }, { text: 'Nothing found 【3:9†ghost.txt】.' });
  const run = await h.client.beta.threads.runs.createAndPoll(thread.id, { assistant_id: bare.id }, { pollIntervalMs: 20 });
  assert.equal(run.status, 'completed', JSON.stringify(run.last_error));
  const toolMessage = h.model.requests[before + 1]!.body.messages.find((message) => message.role === 'tool');
  assert.match(String(toolMessage?.content), /No passages/);
  const [answer] = (await h.client.beta.threads.messages.list(thread.id, { run_id: run.id })).data;
  assert.deepEqual(answer?.content[0]?.type === 'text' ? answer.content[0].text.annotations : undefined, []);
});

test('the vector_stores helper on assistants and threads creates a store from the files and names it', async () => {
  const assistant = await h.client.beta.assistants.create({
    model: 'gpt-4o',
    tools: [{ type: 'file_search' }],
    tool_resources: { file_search: { vector_stores: [{ file_ids: [parisFile], metadata: { made: 'by helper' } }] } },
  });
  assertMatchesSpec('AssistantObject', assistant);
  const [storeId] = assistant.tool_resources?.file_search?.vector_store_ids ?? [];
  assert.match(storeId ?? '', /^vs_/);
  assert.equal(Object.keys(assistant.tool_resources?.file_search ?? {}).includes('vector_stores'), false);
  const created = await h.client.vectorStores.retrieve(storeId!);
  assert.equal(created.file_counts.total, 1);
  assert.deepEqual(created.metadata, { made: 'by helper' });

  const thread = await h.client.beta.threads.create({ tool_resources: { file_search: { vector_stores: [{ file_ids: [parisFile] }] } } });
  const threadStores = thread.tool_resources?.file_search?.vector_store_ids ?? [];
  assert.equal(threadStores.length, 1);
  assert.notEqual(threadStores[0], storeId);
});

test('files attached to a message for file_search are indexed in the thread vector store and found by the run', async () => {
  const manual = (await h.client.files.create({ file: await toFile(Buffer.from('The coffee machine manual says: descale it every 40 days with citric acid.'), 'manual.txt'), purpose: 'assistants' })).id;
  const searcher = await h.client.beta.assistants.create({ model: 'gpt-4o', tools: [{ type: 'file_search' }] });
  const thread = await h.client.beta.threads.create();
  await assert.rejects(
    h.client.beta.threads.messages.create(thread.id, { role: 'user', content: 'x', attachments: [{ file_id: 'file-missing', tools: [{ type: 'file_search' }] }] }),
    (error: unknown) => (error as { status?: number; param?: string }).status === 404 && (error as { param?: string }).param === 'attachments[0].file_id',
  );
  await h.client.beta.threads.messages.create(thread.id, { role: 'user', content: 'How often do I descale?', attachments: [{ file_id: manual, tools: [{ type: 'file_search' }] }] });
  const [threadStore] = (await h.client.beta.threads.retrieve(thread.id)).tool_resources?.file_search?.vector_store_ids ?? [];
  assert.match(threadStore ?? '', /^vs_/);

  h.model.script({ toolCalls: [{ name: 'file_search', arguments: '{"query":"descale"}' }] }, { text: 'Every 40 days 【0:0†manual.txt】.' });
  const run = await h.client.beta.threads.runs.createAndPoll(thread.id, { assistant_id: searcher.id }, { pollIntervalMs: 20 });
  assert.equal(run.status, 'completed', JSON.stringify(run.last_error));
  const [answer] = (await h.client.beta.threads.messages.list(thread.id, { run_id: run.id })).data;
  const annotation = answer?.content[0]?.type === 'text' ? answer.content[0].text.annotations[0] : undefined;
  assert.equal(annotation?.type === 'file_citation' ? annotation.file_citation.file_id : undefined, manual);
});

test('a model that only ever calls file_search is stopped after 8 rounds, and the run fails clearly', async () => {
  const looping = await h.client.beta.assistants.create({ model: 'gpt-4o', tools: [{ type: 'file_search' }] });
  const thread = await h.client.beta.threads.create({ messages: [{ role: 'user', content: 'Search forever' }] });
  const before = h.model.requests.length;
  h.model.script(...Array.from({ length: 8 }, () => ({ toolCalls: [{ name: 'file_search', arguments: '{"query":"more"}' }] })));
  const run = await h.client.beta.threads.runs.createAndPoll(thread.id, { assistant_id: looping.id }, { pollIntervalMs: 20 });
  assert.equal(run.status, 'failed');
  assert.equal(run.last_error?.code, 'server_error');
  assert.match(run.last_error?.message ?? '', /kept calling tools for 8 rounds/);
  assert.equal(h.model.requests.length - before, 8);
  const steps = await h.client.beta.threads.runs.steps.list(run.id, { thread_id: thread.id, limit: 100 });
  assert.equal(steps.data.length, 8);
  assert.ok(steps.data.every((step) => step.status === 'completed'));
});
