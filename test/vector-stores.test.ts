import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { BadRequestError, NotFoundError, toFile } from 'openai';
import type { VectorStoreSearchParams } from 'openai/resources/vector-stores/vector-stores';
import { minimalDocx, minimalPdf } from './support/documents.js';
import { assertMatchesSpec, eventually, type Harness, ManualClock, startHarness } from './support/harness.js';

// The SDK's poll helpers wait forever on a file stuck in progress; this turns that into a failure.
// It bounds whole suites, on a loaded CI machine too.
const TIMEOUT_MS = 180_000;

const FRUIT = 'Bananas are a yellow fruit rich in potassium. Monkeys peel bananas before eating them.';
const SPACE = 'The rocket launched into orbit around Mars carrying three astronauts and a rover.';
const BREAD = 'Preheat the oven, knead the dough, and bake the bread for forty minutes.';

async function upload(h: Harness, text: string | Buffer, filename: string): Promise<string> {
  const file = await h.client.files.create({ file: await toFile(Buffer.from(text), filename), purpose: 'assistants' });
  return file.id;
}

/** The raw JSON of a response, for checking it against the spec as the server sent it. */
async function rawJson(promise: { asResponse(): Promise<Response> }): Promise<unknown> {
  return (await promise.asResponse()).json();
}

describe('keyword-only (no embedding model)', { timeout: TIMEOUT_MS }, () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(() => h.close());

  test('create, retrieve, update, list and delete a vector store', async () => {
    const created = await h.client.vectorStores.create({ name: 'Docs', metadata: { team: 'search' } });
    assertMatchesSpec('VectorStoreObject', created);
    assert.match(created.id, /^vs_/);
    assert.equal(created.object, 'vector_store');
    assert.equal(created.name, 'Docs');
    assert.equal(created.status, 'completed');
    assert.equal(created.usage_bytes, 0);
    assert.deepEqual(created.file_counts, { in_progress: 0, completed: 0, failed: 0, cancelled: 0, total: 0 });
    assert.deepEqual(created.metadata, { team: 'search' });
    assert.equal(created.last_active_at, created.created_at);
    assert.equal(created.expires_at, null);

    assert.deepEqual(await h.client.vectorStores.retrieve(created.id), created);

    const updated = await h.client.vectorStores.update(created.id, { name: 'Manuals', expires_after: { anchor: 'last_active_at', days: 7 } });
    assertMatchesSpec('VectorStoreObject', updated);
    assert.equal(updated.name, 'Manuals');
    assert.deepEqual(updated.metadata, { team: 'search' });
    assert.deepEqual(updated.expires_after, { anchor: 'last_active_at', days: 7 });
    assert.equal(updated.expires_at, created.last_active_at! + 7 * 86400);

    const unexpiring = await h.client.vectorStores.update(created.id, { expires_after: null });
    assert.equal(unexpiring.expires_at, null);
    assert.equal(unexpiring.expires_after, undefined);

    const other = await h.client.vectorStores.create({});
    assert.equal(other.name, '');
    const page = await rawJson(h.client.vectorStores.list({ order: 'asc', limit: 100 }));
    assertMatchesSpec('ListVectorStoresResponse', page);
    const ids = (page as { data: { id: string }[] }).data.map((store) => store.id);
    assert.ok(ids.indexOf(created.id) >= 0 && ids.indexOf(created.id) < ids.indexOf(other.id));

    const deleted = await h.client.vectorStores.delete(created.id);
    assertMatchesSpec('DeleteVectorStoreResponse', deleted);
    assert.deepEqual(deleted, { id: created.id, object: 'vector_store.deleted', deleted: true });
    await assert.rejects(h.client.vectorStores.retrieve(created.id), NotFoundError);
    await assert.rejects(h.client.vectorStores.delete(created.id), NotFoundError);
  });

  test('chunking strategies out of bounds are rejected with 400', async () => {
    const tooSmall = { type: 'static', static: { max_chunk_size_tokens: 50, chunk_overlap_tokens: 0 } } as const;
    const overlapTooLarge = { type: 'static', static: { max_chunk_size_tokens: 400, chunk_overlap_tokens: 201 } } as const;
    await assert.rejects(h.client.vectorStores.create({ chunking_strategy: tooSmall }), BadRequestError);
    const error = await h.client.vectorStores.create({ chunking_strategy: overlapTooLarge }).catch((caught: unknown) => caught);
    assert.ok(error instanceof BadRequestError);
    assert.equal(error.param, 'chunking_strategy');
    const store = await h.client.vectorStores.create({});
    await assert.rejects(h.client.vectorStores.files.create(store.id, { file_id: 'file-unused', chunking_strategy: overlapTooLarge }), BadRequestError);
    await assert.rejects(h.client.vectorStores.fileBatches.create(store.id, { file_ids: ['file-unused'], chunking_strategy: tooSmall }), BadRequestError);
    // The largest allowed overlap is exactly half.
    const fileId = await upload(h, FRUIT, 'fruit.txt');
    const file = await h.client.vectorStores.files.createAndPoll(store.id, { file_id: fileId, chunking_strategy: { type: 'static', static: { max_chunk_size_tokens: 400, chunk_overlap_tokens: 200 } } });
    assert.equal(file.status, 'completed');
    assert.deepEqual(file.chunking_strategy, { type: 'static', static: { max_chunk_size_tokens: 400, chunk_overlap_tokens: 200 } });
  });

  test('unknown files and vector stores are 404s; invalid bodies are 400s', async () => {
    await assert.rejects(h.client.vectorStores.create({ file_ids: ['file-missing'] }), NotFoundError);
    const store = await h.client.vectorStores.create({});
    await assert.rejects(h.client.vectorStores.files.create(store.id, { file_id: 'file-missing' }), NotFoundError);
    await assert.rejects(h.client.vectorStores.files.create('vs_missing', { file_id: 'file-missing' }), NotFoundError);
    await assert.rejects(h.client.vectorStores.files.retrieve('file-missing', { vector_store_id: store.id }), NotFoundError);
    await assert.rejects(h.client.vectorStores.fileBatches.retrieve('vsfb_missing', { vector_store_id: store.id }), NotFoundError);
    await assert.rejects(h.client.vectorStores.search('vs_missing', { query: 'x' }), NotFoundError);
    const fileId = await upload(h, FRUIT, 'fruit.txt');
    await assert.rejects(h.client.vectorStores.fileBatches.create(store.id, { file_ids: [fileId], files: [{ file_id: fileId }] }), BadRequestError);
    await assert.rejects(h.client.vectorStores.fileBatches.create(store.id, { file_ids: [] }), BadRequestError);
    await assert.rejects(h.client.vectorStores.create({ expires_after: { anchor: 'last_active_at', days: 366 } }), BadRequestError);
    await assert.rejects(h.client.vectorStores.search(store.id, { query: 'x', max_num_results: 51 }), BadRequestError);
    await assert.rejects(h.client.vectorStores.files.list(store.id, { filter: 'done' as 'completed' }), BadRequestError);
    const tooMany = Object.fromEntries(Array.from({ length: 17 }, (_, index) => [`k${index}`, index]));
    await assert.rejects(h.client.vectorStores.files.create(store.id, { file_id: fileId, attributes: tooMany }), BadRequestError);
  });

  test('a file is attached, indexed, listed, updated, read back and detached', async () => {
    const store = await h.client.vectorStores.create({ name: 'one file' });
    const fileId = await upload(h, FRUIT, 'fruit.txt');
    const file = await h.client.vectorStores.files.createAndPoll(store.id, { file_id: fileId, attributes: { category: 'food' } });
    assertMatchesSpec('VectorStoreFileObject', file);
    assert.equal(file.id, fileId);
    assert.equal(file.object, 'vector_store.file');
    assert.equal(file.vector_store_id, store.id);
    assert.equal(file.status, 'completed');
    assert.equal(file.last_error, null);
    assert.ok(file.usage_bytes > 0);
    assert.deepEqual(file.attributes, { category: 'food' });
    assert.deepEqual(file.chunking_strategy, { type: 'static', static: { max_chunk_size_tokens: 800, chunk_overlap_tokens: 400 } });

    const counted = await h.client.vectorStores.retrieve(store.id);
    assert.equal(counted.status, 'completed');
    assert.deepEqual(counted.file_counts, { in_progress: 0, completed: 1, failed: 0, cancelled: 0, total: 1 });
    assert.equal(counted.usage_bytes, file.usage_bytes);

    assert.deepEqual(await h.client.vectorStores.files.retrieve(fileId, { vector_store_id: store.id }), file);
    const list = await rawJson(h.client.vectorStores.files.list(store.id));
    assertMatchesSpec('ListVectorStoreFilesResponse', list);
    assert.deepEqual((list as { data: unknown[] }).data, [file]);
    assert.deepEqual((await h.client.vectorStores.files.list(store.id, { filter: 'completed' })).data.map((f) => f.id), [fileId]);
    assert.deepEqual((await h.client.vectorStores.files.list(store.id, { filter: 'failed' })).data, []);

    const updated = await h.client.vectorStores.files.update(fileId, { vector_store_id: store.id, attributes: { category: 'fruit', ripe: true, weight: 1.5 } });
    assertMatchesSpec('VectorStoreFileObject', updated);
    assert.deepEqual(updated.attributes, { category: 'fruit', ripe: true, weight: 1.5 });

    const content = await rawJson(h.client.vectorStores.files.content(fileId, { vector_store_id: store.id }));
    assertMatchesSpec('VectorStoreFileContentResponse', content);
    assert.deepEqual(content, { object: 'vector_store.file_content.page', data: [{ type: 'text', text: FRUIT }], has_more: false, next_page: null });

    const deleted = await h.client.vectorStores.files.delete(fileId, { vector_store_id: store.id });
    assertMatchesSpec('DeleteVectorStoreFileResponse', deleted);
    assert.deepEqual(deleted, { id: fileId, object: 'vector_store.file.deleted', deleted: true });
    await assert.rejects(h.client.vectorStores.files.retrieve(fileId, { vector_store_id: store.id }), NotFoundError);
    const emptied = await h.client.vectorStores.retrieve(store.id);
    assert.deepEqual(emptied.file_counts, { in_progress: 0, completed: 0, failed: 0, cancelled: 0, total: 0 });
    assert.equal(emptied.usage_bytes, 0);
    assert.equal((await h.client.vectorStores.search(store.id, { query: 'bananas' })).data.length, 0);
    // Detaching leaves the file itself alone.
    assert.equal((await h.client.files.retrieve(fileId)).id, fileId);
  });

  test('a vector store created with file_ids indexes them all', async () => {
    const fileIds = [await upload(h, FRUIT, 'fruit.txt'), await upload(h, SPACE, 'space.txt')];
    const store = await h.client.vectorStores.create({ name: 'seeded', file_ids: fileIds });
    assert.equal(store.file_counts.total, 2);
    const done = await eventually(async () => {
      const current = await h.client.vectorStores.retrieve(store.id);
      return current.status === 'completed' ? current : undefined;
    });
    assert.deepEqual(done.file_counts, { in_progress: 0, completed: 2, failed: 0, cancelled: 0, total: 2 });
    assert.deepEqual((await h.client.vectorStores.files.list(store.id, { order: 'asc' })).data.map((file) => file.id), fileIds);
  });

  test('a batch of file ids is indexed, and its files are listed by batch', async () => {
    const store = await h.client.vectorStores.create({});
    const loose = await upload(h, BREAD, 'bread.txt');
    await h.client.vectorStores.files.createAndPoll(store.id, { file_id: loose });
    const fileIds = [await upload(h, FRUIT, 'fruit.txt'), await upload(h, SPACE, 'space.txt')];
    const batch = await h.client.vectorStores.fileBatches.createAndPoll(store.id, { file_ids: fileIds, attributes: { source: 'batch' } });
    assertMatchesSpec('VectorStoreFileBatchObject', batch);
    assert.match(batch.id, /^vsfb_/);
    assert.equal(batch.object, 'vector_store.files_batch');
    assert.equal(batch.vector_store_id, store.id);
    assert.equal(batch.status, 'completed');
    assert.deepEqual(batch.file_counts, { in_progress: 0, completed: 2, failed: 0, cancelled: 0, total: 2 });
    assert.deepEqual(await h.client.vectorStores.fileBatches.retrieve(batch.id, { vector_store_id: store.id }), batch);

    const inBatch = await rawJson(h.client.vectorStores.fileBatches.listFiles(batch.id, { vector_store_id: store.id, order: 'asc' }));
    assertMatchesSpec('ListVectorStoreFilesResponse', inBatch);
    const files = (inBatch as { data: { id: string; attributes: unknown }[] }).data;
    assert.deepEqual(files.map((file) => file.id), fileIds);
    assert.ok(files.every((file) => JSON.stringify(file.attributes) === '{"source":"batch"}'));
    assert.deepEqual((await h.client.vectorStores.fileBatches.listFiles(batch.id, { vector_store_id: store.id, filter: 'failed' })).data, []);
    assert.deepEqual((await h.client.vectorStores.retrieve(store.id)).file_counts, { in_progress: 0, completed: 3, failed: 0, cancelled: 0, total: 3 });
    const paged: string[] = [];
    for await (const file of h.client.vectorStores.files.list(store.id, { limit: 1, order: 'asc' })) paged.push(file.id);
    assert.deepEqual(paged, [loose, ...fileIds]);
    // A finished batch cannot be cancelled.
    await assert.rejects(h.client.vectorStores.fileBatches.cancel(batch.id, { vector_store_id: store.id }), BadRequestError);
  });

  test('files indexed side by side, while the store is searched, leave its counts, usage and status exact', async () => {
    const files = 12;
    for (let round = 0; round < 5; round++) {
      const store = await h.client.vectorStores.create({});
      const fileIds = await Promise.all(Array.from({ length: files }, (_, i) => upload(h, `${FRUIT} Round ${round}, file ${i}.`, `f${i}.txt`)));
      const batch = await h.client.vectorStores.fileBatches.create(store.id, { file_ids: fileIds });
      // Each search records use of the store, a write racing the ingestion jobs' count refreshes.
      const searches = Array.from({ length: 4 }, () => h.client.vectorStores.search(store.id, { query: 'bananas' }));
      const done = await h.client.vectorStores.fileBatches.poll(store.id, batch.id, { pollIntervalMs: 5 });
      await Promise.all(searches);
      assert.deepEqual(done.file_counts, { in_progress: 0, completed: files, failed: 0, cancelled: 0, total: files });
      const vectorStore = await h.client.vectorStores.retrieve(store.id);
      assert.equal(vectorStore.status, 'completed');
      assert.deepEqual(vectorStore.file_counts, done.file_counts);
      const indexed = (await h.client.vectorStores.files.list(store.id, { limit: 100 })).data;
      assert.equal(vectorStore.usage_bytes, indexed.reduce((sum, file) => sum + file.usage_bytes, 0));
    }
  });

  test('uploadAndPoll on mixed files, a PDF and a docx among them: the corrupt and the unsupported fail, the others complete', async () => {
    const store = await h.client.vectorStores.create({});
    const batch = await h.client.vectorStores.fileBatches.uploadAndPoll(store.id, {
      files: [
        await toFile(Buffer.from(FRUIT), 'fruit.txt'),
        await toFile(Buffer.from(`# Notes\n\n${SPACE}`), 'notes.md'),
        await toFile(minimalPdf(['Sourdough starter needs daily feeding with flour and water.']), 'starter.pdf'),
        await toFile(minimalDocx(['The lighthouse keeper logs every passing ship.']), 'log.docx'),
        await toFile(Buffer.from('not a pdf'), 'broken.pdf'),
        await toFile(Buffer.from([0x00, 0x01, 0x02, 0xff]), 'blob.bin'),
      ],
    });
    assert.equal(batch.status, 'completed');
    assert.deepEqual(batch.file_counts, { in_progress: 0, completed: 4, failed: 2, cancelled: 0, total: 6 });
    const failed = (await h.client.vectorStores.fileBatches.listFiles(batch.id, { vector_store_id: store.id, filter: 'failed' })).data;
    assert.equal(failed.length, 2);
    for (const file of failed) {
      assertMatchesSpec('VectorStoreFileObject', file);
      assert.equal(file.usage_bytes, 0);
      assert.ok(file.last_error && file.last_error.message.length > 0);
    }
    const codes = new Map<string, string>();
    for (const file of failed) codes.set((await h.client.files.retrieve(file.id)).filename, file.last_error!.code);
    assert.equal(codes.get('broken.pdf'), 'invalid_file');
    assert.equal(codes.get('blob.bin'), 'unsupported_file');
    const vectorStore = await h.client.vectorStores.retrieve(store.id);
    assert.equal(vectorStore.status, 'completed');
    assert.deepEqual(vectorStore.file_counts, { in_progress: 0, completed: 4, failed: 2, cancelled: 0, total: 6 });
    // The PDF's and the docx's text was extracted and is found.
    assert.equal((await h.client.files.retrieve((await h.client.vectorStores.search(store.id, { query: 'sourdough starter flour' })).data[0]!.file_id)).filename, 'starter.pdf');
    assert.equal((await h.client.vectorStores.search(store.id, { query: 'lighthouse keeper ships' })).data[0]?.filename, 'log.docx');
    const completed = (await h.client.vectorStores.files.list(store.id, { filter: 'completed' })).data;
    assert.equal(vectorStore.usage_bytes, completed.reduce((sum, file) => sum + file.usage_bytes, 0));
  });

  describe('search', () => {
    let storeId: string;
    const ids: Record<string, string> = {};
    before(async () => {
      storeId = (await h.client.vectorStores.create({ name: 'search' })).id;
      ids.fruit = await upload(h, FRUIT, 'fruit.txt');
      ids.space = await upload(h, SPACE, 'space.txt');
      ids.bread = await upload(h, BREAD, 'bread.txt');
      await h.client.vectorStores.fileBatches.createAndPoll(storeId, {
        files: [
          { file_id: ids.fruit, attributes: { category: 'food', year: 2020, public: true } },
          { file_id: ids.space, attributes: { category: 'science', year: 2024, public: true } },
          { file_id: ids.bread, attributes: { category: 'food', year: 2023, public: false } },
        ],
      });
    });

    const search = async (params: VectorStoreSearchParams) => {
      const page = await rawJson(h.client.vectorStores.search(storeId, params));
      assertMatchesSpec('VectorStoreSearchResultsPage', page);
      return page as { search_query: string[]; data: { file_id: string; filename: string; score: number; attributes: object; content: { text: string }[] }[] };
    };

    test('ranks the file that matches the query first', async () => {
      const page = await search({ query: 'rocket orbit around Mars' });
      assert.deepEqual(page.search_query, ['rocket orbit around Mars']);
      const [top] = page.data;
      assert.ok(top);
      assert.equal(top.file_id, ids.space);
      assert.equal(top.filename, 'space.txt');
      assert.deepEqual(top.attributes, { category: 'science', year: 2024, public: true });
      assert.deepEqual(top.content, [{ type: 'text', text: SPACE }]);
      assert.ok(top.score > 0 && top.score <= 1);
      const multi = await search({ query: ['bake', 'bread dough'], rewrite_query: true, ranking_options: { ranker: 'none' } });
      assert.deepEqual(multi.search_query, ['bake', 'bread dough']);
      assert.equal(multi.data[0]?.file_id, ids.bread);
    });

    test('filters on attributes', async () => {
      const fileIdsFor = async (filters: VectorStoreSearchParams['filters']) =>
        new Set((await search({ query: 'bananas bread rocket', filters })).data.map((hit) => hit.file_id));
      assert.deepEqual(await fileIdsFor({ type: 'eq', key: 'category', value: 'food' }), new Set([ids.fruit, ids.bread]));
      assert.deepEqual(await fileIdsFor({ type: 'ne', key: 'category', value: 'food' }), new Set([ids.space]));
      assert.deepEqual(await fileIdsFor({ type: 'gte', key: 'year', value: 2023 }), new Set([ids.space, ids.bread]));
      assert.deepEqual(await fileIdsFor({ type: 'in', key: 'year', value: [2020, 2024] }), new Set([ids.fruit, ids.space]));
      assert.deepEqual(await fileIdsFor({ type: 'eq', key: 'public', value: false }), new Set([ids.bread]));
      assert.deepEqual(
        await fileIdsFor({ type: 'and', filters: [{ type: 'eq', key: 'category', value: 'food' }, { type: 'lt', key: 'year', value: 2023 }] }),
        new Set([ids.fruit]),
      );
      assert.deepEqual(
        await fileIdsFor({ type: 'or', filters: [{ type: 'eq', key: 'category', value: 'science' }, { type: 'nin', key: 'year', value: [2020, 2024] }] }),
        new Set([ids.space, ids.bread]),
      );
      assert.deepEqual(await fileIdsFor({ type: 'eq', key: 'missing', value: 'x' }), new Set());
    });

    test('max_num_results and score_threshold limit the results', async () => {
      const all = await search({ query: 'bananas bread rocket' });
      assert.equal(all.data.length, 3);
      assert.equal((await search({ query: 'bananas bread rocket', max_num_results: 1 })).data.length, 1);
      const scores = all.data.map((hit) => hit.score);
      assert.deepEqual(scores, [...scores].sort((a, b) => b - a));
      const threshold = (scores[0]! + scores.at(-1)!) / 2;
      assert.ok(scores[0]! > scores.at(-1)!, `expected distinct scores, got ${scores.join(', ')}`);
      const above = await search({ query: 'bananas bread rocket', ranking_options: { score_threshold: threshold } });
      assert.ok(above.data.length >= 1 && above.data.length < 3);
      assert.ok(above.data.every((hit) => hit.score >= threshold));
    });
  });

  test('deleting a vector store removes its files and chunks, not the files themselves', async () => {
    const fileId = await upload(h, SPACE, 'space.txt');
    const store = await h.client.vectorStores.create({});
    await h.client.vectorStores.files.createAndPoll(store.id, { file_id: fileId });
    const other = await h.client.vectorStores.create({});
    await h.client.vectorStores.files.createAndPoll(other.id, { file_id: fileId });
    await h.client.vectorStores.delete(store.id);
    await assert.rejects(h.client.vectorStores.files.list(store.id), NotFoundError);
    assert.equal((await h.client.files.retrieve(fileId)).id, fileId);
    // The same file in another store is untouched.
    assert.equal((await h.client.vectorStores.files.retrieve(fileId, { vector_store_id: other.id })).status, 'completed');
    assert.equal((await h.client.vectorStores.search(other.id, { query: 'rocket' })).data[0]?.file_id, fileId);
  });

  test('deleting a file detaches it from every vector store', async () => {
    const fileId = await upload(h, FRUIT, 'fruit.txt');
    const first = await h.client.vectorStores.create({ file_ids: [fileId] });
    const second = await h.client.vectorStores.create({ file_ids: [fileId] });
    for (const store of [first, second]) await h.client.vectorStores.files.poll(store.id, fileId);
    await h.client.files.delete(fileId);
    for (const store of [first, second]) {
      await assert.rejects(h.client.vectorStores.files.retrieve(fileId, { vector_store_id: store.id }), NotFoundError);
      const current = await h.client.vectorStores.retrieve(store.id);
      assert.deepEqual(current.file_counts, { in_progress: 0, completed: 0, failed: 0, cancelled: 0, total: 0 });
      assert.equal(current.usage_bytes, 0);
      assert.deepEqual((await h.client.vectorStores.search(store.id, { query: 'bananas' })).data, []);
    }
  });
});

test('a vector store past expires_at shows expired and cannot be searched', { timeout: TIMEOUT_MS }, async () => {
  const clock = new ManualClock();
  const h = await startHarness({ clock });
  try {
    const store = await h.client.vectorStores.create({ expires_after: { anchor: 'last_active_at', days: 1 } });
    const start = Math.floor(clock.nowMs() / 1000);
    assert.equal(store.last_active_at, start);
    assert.equal(store.expires_at, start + 86400);
    clock.advanceSeconds(3600);
    // Use pushes expiry back.
    await h.client.vectorStores.search(store.id, { query: 'anything' });
    const touched = await h.client.vectorStores.retrieve(store.id);
    assert.equal(touched.last_active_at, start + 3600);
    assert.equal(touched.expires_at, start + 3600 + 86400);
    assert.equal(touched.status, 'completed');

    clock.advanceSeconds(2 * 86400);
    const expired = await h.client.vectorStores.retrieve(store.id);
    assertMatchesSpec('VectorStoreObject', expired);
    assert.equal(expired.status, 'expired');
    assert.equal((await h.client.vectorStores.list()).data.find((listed) => listed.id === store.id)?.status, 'expired');
    await assert.rejects(h.client.vectorStores.search(store.id, { query: 'anything' }), BadRequestError);
  } finally {
    await h.close();
  }
});

test('with an embedding model, chunks and queries are embedded and searched semantically', { timeout: TIMEOUT_MS }, async () => {
  const h = await startHarness({ env: { STEPWISE_EMBEDDING_MODEL: 'embed-1' } });
  try {
    const store = await h.client.vectorStores.create({});
    const batch = await h.client.vectorStores.fileBatches.uploadAndPoll(store.id, {
      files: [await toFile(Buffer.from(FRUIT), 'fruit.txt'), await toFile(Buffer.from(SPACE), 'space.txt'), await toFile(Buffer.from(BREAD), 'bread.txt')],
    });
    assert.deepEqual(batch.file_counts, { in_progress: 0, completed: 3, failed: 0, cancelled: 0, total: 3 });
    const indexed = h.model.embeddingRequests.flatMap((request) => request.input);
    assert.ok(h.model.embeddingRequests.every((request) => request.model === 'embed-1'));
    assert.ok([FRUIT, SPACE, BREAD].every((text) => indexed.includes(text)));

    const before = h.model.embeddingRequests.length;
    const page = await h.client.vectorStores.search(store.id, { query: 'monkeys eat yellow bananas' });
    assert.deepEqual(h.model.embeddingRequests.slice(before).map((request) => request.input), [['monkeys eat yellow bananas']]);
    assert.equal(page.data[0]?.filename, 'fruit.txt');
  } finally {
    await h.close();
  }
});

describe('ingestion caught in progress', { timeout: TIMEOUT_MS }, () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ env: { STEPWISE_EMBEDDING_MODEL: 'embed-1' } });
    h.model.holdEmbeddings();
  });
  after(() => h.close());

  test('cancelling a batch cancels its files still in progress', async () => {
    const store = await h.client.vectorStores.create({});
    const fileIds = [await upload(h, FRUIT, 'fruit.txt'), await upload(h, SPACE, 'space.txt')];
    const batch = await h.client.vectorStores.fileBatches.create(store.id, { file_ids: fileIds });
    assert.equal(batch.status, 'in_progress');
    assert.deepEqual(batch.file_counts, { in_progress: 2, completed: 0, failed: 0, cancelled: 0, total: 2 });
    assert.equal((await h.client.vectorStores.retrieve(store.id)).status, 'in_progress');
    await eventually(async () => (h.model.embeddingRequests.length >= 2 ? true : undefined));

    const cancelled = await h.client.vectorStores.fileBatches.cancel(batch.id, { vector_store_id: store.id });
    assertMatchesSpec('VectorStoreFileBatchObject', cancelled);
    assert.equal(cancelled.status, 'cancelled');
    assert.deepEqual(cancelled.file_counts, { in_progress: 0, completed: 0, failed: 0, cancelled: 2, total: 2 });
    const files = (await h.client.vectorStores.fileBatches.listFiles(batch.id, { vector_store_id: store.id, filter: 'cancelled' })).data;
    assert.deepEqual(new Set(files.map((file) => file.id)), new Set(fileIds));
    const vectorStore = await h.client.vectorStores.retrieve(store.id);
    assert.equal(vectorStore.status, 'completed');
    assert.deepEqual(vectorStore.file_counts, { in_progress: 0, completed: 0, failed: 0, cancelled: 2, total: 2 });
  });

  test('a file left in progress by a restart is indexed after it', async () => {
    const store = await h.client.vectorStores.create({});
    const fileId = await upload(h, BREAD, 'bread.txt');
    const seen = h.model.embeddingRequests.length;
    const attached = await h.client.vectorStores.files.create(store.id, { file_id: fileId });
    assert.equal(attached.status, 'in_progress');
    await eventually(async () => (h.model.embeddingRequests.length > seen ? true : undefined));

    await h.restart();
    assert.equal((await h.client.vectorStores.files.retrieve(fileId, { vector_store_id: store.id })).status, 'in_progress');
    h.model.releaseEmbeddings();
    const file = await h.client.vectorStores.files.poll(store.id, fileId);
    assert.equal(file.status, 'completed');
    assert.deepEqual((await h.client.vectorStores.retrieve(store.id)).file_counts, { in_progress: 0, completed: 1, failed: 0, cancelled: 0, total: 1 });
    assert.equal((await h.client.vectorStores.search(store.id, { query: 'knead the dough' })).data[0]?.file_id, fileId);
  });
});
