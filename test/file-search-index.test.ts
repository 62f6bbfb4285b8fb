import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type Kysely, sql } from 'kysely';
import { loadConfig } from '../src/config.js';
import { countTokens } from '../src/engine/tokens.js';
import { createEmbedder, type Embedder } from '../src/providers/embeddings.js';
import { migrateToLatest, openDatabase } from '../src/store/database.js';
import type { Database } from '../src/store/schema.js';
import { AUTO_CHUNKING, chunkingViolation, chunkText } from '../src/tools/file-search/chunk.js';
import { extractText, IngestionError } from '../src/tools/file-search/extract.js';
import { FileSearchIndex, type SearchHit } from '../src/tools/file-search/index.js';
import { PreparePool } from '../src/tools/file-search/prepare-pool.js';
import { minimalDocx, minimalPdf } from './support/documents.js';
import { ScriptedModel } from './support/scripted-model.js';
import { createThrowawayDatabase, TEST_DATABASE_URL, type ThrowawayDatabase } from './support/test-database.js';

async function assertIngestionError(promise: Promise<unknown>, code: IngestionError['code']): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof IngestionError, `expected an IngestionError, got ${String(error)}`);
    assert.equal(error.code, code);
    return true;
  });
}

/** The longest end of `a` that `b` starts with. */
function sharedEdge(a: string, b: string): string {
  for (let length = Math.min(a.length, b.length); length > 0; length--) {
    if (b.startsWith(a.slice(-length))) return a.slice(-length);
  }
  return '';
}

/** Deterministic prose: sentence n is always the same. */
function filler(sentences: number, seed = 1): string {
  const words = ['river', 'stone', 'lantern', 'market', 'harbor', 'violet', 'engine', 'garden', 'copper', 'window', 'meadow', 'signal'];
  let state = seed;
  const next = () => (state = (state * 1103515245 + 12345) % 2 ** 31);
  return Array.from({ length: sentences }, () => `${Array.from({ length: 12 }, () => words[next() % words.length]).join(' ')}.`).join(' ');
}

describe('extractText', () => {
  test('reads plain text, markdown, csv and source code as UTF-8', async () => {
    assert.equal(await extractText('notes.txt', Buffer.from('héllo wörld')), 'héllo wörld');
    assert.equal(await extractText('README.MD', Buffer.from('# Title\n\nbody')), '# Title\n\nbody');
    assert.equal(await extractText('table.csv', Buffer.from('a,b\n1,2\n')), 'a,b\n1,2\n');
    for (const name of ['main.py', 'app.ts', 'Main.java', 'lib.rs', 'x.go', 'a.c', 'a.cpp', 'a.rb', 'a.php', 'run.sh', 'style.css', 'paper.tex', 'index.js']) {
      assert.equal(await extractText(name, Buffer.from('print("hi")')), 'print("hi")', name);
    }
  });

  test('strips the markup of HTML', async () => {
    const text = await extractText('page.html', Buffer.from('<html><head><title>T</title><script>var x = 1;</script></head><body><h1>Heading</h1><p>First <b>bold</b> <a href="https://x.example">link</a></p></body></html>'));
    assert.match(text, /HEADING|Heading/);
    assert.match(text, /First bold link/);
    assert.doesNotMatch(text, /<|var x|x\.example/);
    assert.match(await extractText('old.htm', Buffer.from('<p>legacy</p>')), /legacy/);
  });

  test('checks JSON, keeping its text', async () => {
    assert.equal(await extractText('data.json', Buffer.from('{"answer": 42}')), '{"answer": 42}');
    await assertIngestionError(extractText('data.json', Buffer.from('{"answer": ')), 'invalid_file');
  });

  test('reads the text of a PDF', async () => {
    const text = await extractText('report.pdf', minimalPdf(['Quarterly zebra census', 'Totals (rounded) follow']));
    assert.match(text, /Quarterly zebra census/);
    assert.match(text, /Totals \(rounded\) follow/);
  });

  test('reads the text of a Word document', async () => {
    const text = await extractText('memo.docx', minimalDocx(['Memo about penguins', 'Second paragraph']));
    assert.match(text, /Memo about penguins/);
    assert.match(text, /Second paragraph/);
  });

  test('rejects corrupt content as invalid_file', async () => {
    await assertIngestionError(extractText('broken.pdf', Buffer.from('%PDF-1.4\nthis is not a pdf')), 'invalid_file');
    await assertIngestionError(extractText('broken.docx', Buffer.from('PK not really a zip')), 'invalid_file');
    await assertIngestionError(extractText('binary.txt', Buffer.from([0x66, 0x6f, 0xff, 0xfe, 0x00])), 'invalid_file');
  });

  test('rejects unknown types as unsupported_file', async () => {
    await assertIngestionError(extractText('photo.png', Buffer.from([0x89, 0x50])), 'unsupported_file');
    await assertIngestionError(extractText('Makefile', Buffer.from('all:')), 'unsupported_file');
  });
});

describe('chunkText', () => {
  const text = filler(400);

  test('keeps every chunk within the token budget, consecutive chunks sharing the overlap', () => {
    const chunks = chunkText(text, { maxChunkSizeTokens: 100, chunkOverlapTokens: 40 });
    assert.ok(chunks.length > 10);
    for (const chunk of chunks) {
      assert.ok(chunk.tokens <= 100);
      assert.ok(countTokens(chunk.text) <= 100);
    }
    for (let index = 1; index < chunks.length; index++) {
      const shared = sharedEdge(chunks[index - 1]!.text, chunks[index]!.text);
      assert.ok(Math.abs(countTokens(shared) - 40) <= 2, `chunks ${index - 1} and ${index} share ${countTokens(shared)} tokens`);
    }
    assert.ok(text.endsWith(chunks.at(-1)!.text));
  });

  test('without overlap, the chunks put back together are the text', () => {
    const chunks = chunkText(text, { maxChunkSizeTokens: 128, chunkOverlapTokens: 0 });
    assert.equal(chunks.map((chunk) => chunk.text).join(''), text);
  });

  test('never splits a multi-byte character', () => {
    const chunks = chunkText('日本語のテキストと絵文字🦀🦀🦀。'.repeat(200), { maxChunkSizeTokens: 100, chunkOverlapTokens: 50 });
    assert.ok(chunks.length > 1);
    for (const chunk of chunks) assert.ok(!chunk.text.includes('\uFFFD'));
  });

  test('a short text is one chunk, an empty one none', () => {
    assert.deepEqual(chunkText('short', AUTO_CHUNKING), [{ text: 'short', tokens: 1 }]);
    assert.deepEqual(chunkText('', AUTO_CHUNKING), []);
  });

  test('enforces the contract bounds', () => {
    assert.equal(chunkingViolation(AUTO_CHUNKING), undefined);
    assert.equal(chunkingViolation({ maxChunkSizeTokens: 4096, chunkOverlapTokens: 2048 }), undefined);
    assert.ok(chunkingViolation({ maxChunkSizeTokens: 99, chunkOverlapTokens: 0 }));
    assert.ok(chunkingViolation({ maxChunkSizeTokens: 4097, chunkOverlapTokens: 0 }));
    assert.ok(chunkingViolation({ maxChunkSizeTokens: 800, chunkOverlapTokens: 401 }));
    assert.throws(() => chunkText(text, { maxChunkSizeTokens: 50, chunkOverlapTokens: 0 }), RangeError);
  });
});

describe('PreparePool', () => {
  const pool = new PreparePool(2);
  after(() => pool.close());

  test('chunks files on worker threads exactly as extractText and chunkText do in this thread, many at once', async () => {
    const files: [string, Buffer][] = [
      ['long.txt', Buffer.from(filler(400))],
      ['starter.pdf', minimalPdf(['Sourdough starter needs daily feeding.', filler(20, 2)])],
      ['log.docx', minimalDocx(['The lighthouse keeper logs every passing ship.'])],
      ['page.html', Buffer.from(`<p>${filler(30, 3)}</p>`)],
      ['empty.txt', Buffer.alloc(0)],
    ];
    const chunking = { maxChunkSizeTokens: 200, chunkOverlapTokens: 50 };
    const inThread = await Promise.all(files.map(async ([name, bytes]) => chunkText(await extractText(name, bytes), chunking)));
    const pooled = await Promise.all(files.map(([name, bytes]) => pool.prepare(name, bytes, chunking)));
    assert.deepEqual(pooled, inThread);
    assert.ok(pooled[0]!.length > 1);
  });

  test('an unreadable or unsupported file fails with its IngestionError code, and the pool goes on', async () => {
    await assertIngestionError(pool.prepare('broken.pdf', Buffer.from('not a pdf'), AUTO_CHUNKING), 'invalid_file');
    await assertIngestionError(pool.prepare('blob.bin', Buffer.from([0, 1, 2, 0xff]), AUTO_CHUNKING), 'unsupported_file');
    assert.deepEqual(await pool.prepare('a.txt', Buffer.from('still here'), AUTO_CHUNKING), [{ text: 'still here', tokens: countTokens('still here') }]);
  });
});

describe('FileSearchIndex', () => {
  let model: ScriptedModel;
  let dir: string;
  let database: ThrowawayDatabase | undefined;
  let db: Kysely<Database>;
  let index: FileSearchIndex;
  let keywordIndex: FileSearchIndex;
  const small = { maxChunkSizeTokens: 100, chunkOverlapTokens: 20 };
  const documents: Record<string, string> = {
    'volcano.txt': 'Volcanoes erupt molten lava and ash. Magma chambers beneath the crust feed each eruption of the volcano.',
    'baking.md': 'Bread baking needs flour, water, yeast and salt. Knead the dough, let it rise, then bake in a hot oven.',
    'orbits.txt': 'Planets follow elliptical orbits around the sun. Kepler described orbital periods and gravity binds the planets.',
  };
  const baseInput = { projectId: 'proj_a', vectorStoreId: 'vs_1', chunking: small };

  const search = (target: FileSearchIndex, query: string, options: Partial<Parameters<FileSearchIndex['search']>[0]> = {}): Promise<SearchHit[]> =>
    target.search({ projectId: 'proj_a', vectorStoreIds: ['vs_1'], query, maxResults: 10, scoreThreshold: 0, ...options });

  before(async () => {
    model = await ScriptedModel.start();
    dir = mkdtempSync(join(tmpdir(), 'stepwise-file-search-'));
    const config = loadConfig({ OPENAI_BASE_URL: model.url, STEPWISE_EMBEDDING_MODEL: 'embed-1', STEPWISE_DATA_DIR: dir });
    database = TEST_DATABASE_URL ? await createThrowawayDatabase(TEST_DATABASE_URL) : undefined;
    db = openDatabase({ dataDir: config.dataDir, databaseUrl: database?.url });
    await migrateToLatest(db);
    index = new FileSearchIndex(db, createEmbedder(config));
    keywordIndex = new FileSearchIndex(db, undefined);
    for (const [filename, text] of Object.entries(documents)) {
      await index.indexFile({ ...baseInput, fileId: `file_${filename}`, filename, bytes: Buffer.from(text) });
    }
  });

  after(async () => {
    await db.destroy();
    await database?.drop();
    await model.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('createEmbedder needs a configured embedding model', () => {
    assert.equal(createEmbedder(loadConfig({ STEPWISE_DATA_DIR: dir })), undefined);
  });

  test('embeds every chunk with the configured model, in batches, and reports what the file takes', async () => {
    const before = model.embeddingRequests.length;
    const text = filler(800, 7);
    const result = await index.indexFile({ ...baseInput, vectorStoreId: 'vs_sizes', fileId: 'file_long', filename: 'long.txt', bytes: Buffer.from(text) });
    const chunks = await index.fileChunks('proj_a', 'vs_sizes', 'file_long');
    assert.equal(result.chunks, chunks.length);
    assert.ok(result.chunks > 5);
    const embedded = model.embeddingRequests.slice(before);
    assert.ok(embedded.length > 1 && embedded.every((request) => request.model === 'embed-1' && request.input.length <= 64));
    assert.deepEqual(embedded.flatMap((request) => request.input), chunks);
    const textBytes = chunks.reduce((sum, chunk) => sum + Buffer.byteLength(chunk), 0);
    assert.equal(result.usageBytes, textBytes + chunks.length * 64 * 4);
  });

  test('finds the file about the query, with the embedding model', async () => {
    const before = model.embeddingRequests.length;
    const [top] = await search(index, 'how does magma cause an eruption?');
    assert.equal(top?.fileId, 'file_volcano.txt');
    assert.equal(top?.chunkIndex, 0);
    assert.match(top!.text, /Magma chambers/);
    assert.deepEqual(model.embeddingRequests.slice(before), [{ model: 'embed-1', input: ['how does magma cause an eruption?'] }]);
  });

  test('finds the file about the query by keywords alone, without an embedding model', async () => {
    const hits = await search(keywordIndex, 'kneading dough');
    assert.equal(hits[0]?.fileId, 'file_baking.md');
    assert.deepEqual((await search(keywordIndex, 'submarine')).map((hit) => hit.fileId), []);
  });

  test('ranks files indexed without embeddings by keywords alone, even once a model is configured', async () => {
    await keywordIndex.indexFile({ ...baseInput, vectorStoreId: 'vs_plain', fileId: 'file_plain', filename: 'p.txt', bytes: Buffer.from('Tide pools hold anemones.') });
    const [top] = await search(index, 'anemones', { vectorStoreIds: ['vs_plain'] });
    assert.equal(top?.fileId, 'file_plain');
    assert.equal(top?.score, 1);
  });

  test('ranks by meaning when the query shares no word with the text', async () => {
    // Stands in for a real model: texts about cats, however worded, land near each other.
    const felineAware: Embedder = {
      embed: async (texts) => texts.map((text) => (/cat|feline|kitten/i.test(text) ? [1, 0, 0] : [0, 1, 0])),
    };
    const semantic = new FileSearchIndex(db, felineAware);
    await semantic.indexFile({ ...baseInput, vectorStoreId: 'vs_cats', fileId: 'file_cat', filename: 'cat.txt', bytes: Buffer.from('The kitten naps on the sofa.') });
    await semantic.indexFile({ ...baseInput, vectorStoreId: 'vs_cats', fileId: 'file_dog', filename: 'dog.txt', bytes: Buffer.from('The puppy naps on the rug.') });
    const hits = await search(semantic, 'feline', { vectorStoreIds: ['vs_cats'] });
    assert.equal(hits[0]?.fileId, 'file_cat');
  });

  test('searches only the project and the stores asked for', async () => {
    await index.indexFile({ ...baseInput, projectId: 'proj_b', fileId: 'file_other_volcano', filename: 'v.txt', bytes: Buffer.from(documents['volcano.txt']!) });
    await index.indexFile({ ...baseInput, vectorStoreId: 'vs_2', fileId: 'file_second_store', filename: 'v.txt', bytes: Buffer.from('Lava and magma in a second store.') });
    const inFirst = await search(index, 'magma lava');
    assert.ok(inFirst.every((hit) => hit.vectorStoreId === 'vs_1'));
    assert.ok(!inFirst.some((hit) => hit.fileId === 'file_other_volcano'));
    const inBoth = await search(index, 'magma lava', { vectorStoreIds: ['vs_1', 'vs_2'] });
    assert.deepEqual(new Set(inBoth.slice(0, 2).map((hit) => hit.fileId)), new Set(['file_volcano.txt', 'file_second_store']));
    const otherProject = await search(index, 'magma lava', { projectId: 'proj_b' });
    assert.deepEqual(otherProject.map((hit) => hit.fileId).slice(0, 1), ['file_other_volcano']);
    assert.deepEqual(await search(index, 'magma', { vectorStoreIds: [] }), []);
  });

  test('restricts results to the files given', async () => {
    const hits = await search(index, 'magma lava eruption', { fileIds: ['file_orbits.txt', 'file_baking.md'] });
    assert.ok(hits.length > 0);
    assert.ok(hits.every((hit) => hit.fileId === 'file_orbits.txt' || hit.fileId === 'file_baking.md'));
    assert.deepEqual(await search(index, 'magma', { fileIds: [] }), []);
  });

  test('honours maxResults and scoreThreshold, scores falling from at most 1', async () => {
    const all = await search(index, 'planets orbit the sun');
    assert.equal(all[0]?.fileId, 'file_orbits.txt');
    assert.ok(all.length >= 3);
    for (const [position, hit] of all.entries()) {
      assert.ok(hit.score > 0 && hit.score <= 1);
      if (position > 0) assert.ok(hit.score <= all[position - 1]!.score);
    }
    assert.equal((await search(index, 'planets orbit the sun', { maxResults: 1 })).length, 1);
    const threshold = (all[0]!.score + all[1]!.score) / 2;
    const strong = await search(index, 'planets orbit the sun', { scoreThreshold: threshold });
    assert.deepEqual(strong.map((hit) => hit.fileId), ['file_orbits.txt']);
    // Ranked first among the files allowed, an off-topic chunk still scores as a poor match.
    const [offTopic] = await search(index, 'planets orbit the sun', { fileIds: ['file_baking.md'] });
    assert.ok(offTopic && offTopic.score < threshold, `off-topic chunk scored ${offTopic?.score}`);
    assert.deepEqual(await search(index, 'planets orbit the sun', { scoreThreshold: threshold, fileIds: ['file_baking.md'] }), []);
  });

  test('takes queries full of FTS5 syntax as plain words', async () => {
    for (const query of ['"unbalanced', 'lava AND OR NOT', 'magma* (ash) NEAR/3 text:lava ^yeast -salt', "it's {x} [y] + : ;", '""', '', '   ', '***']) {
      await assert.doesNotReject(search(index, query), query);
      await assert.doesNotReject(search(keywordIndex, query), query);
    }
    assert.equal((await search(keywordIndex, 'text:magma*'))[0]?.fileId, 'file_volcano.txt');
  });

  test('re-indexing a file replaces its chunks; removing it takes it out of search', async () => {
    const file = { ...baseInput, vectorStoreId: 'vs_edit', fileId: 'file_edit', filename: 'edit.txt' };
    await index.indexFile({ ...file, bytes: Buffer.from('The original text mentions glaciers.') });
    await index.indexFile({ ...file, bytes: Buffer.from('The new text mentions deserts.') });
    assert.deepEqual(await index.fileChunks('proj_a', 'vs_edit', 'file_edit'), ['The new text mentions deserts.']);
    assert.deepEqual(await search(keywordIndex, 'glaciers', { vectorStoreIds: ['vs_edit'] }), []);
    await index.removeFile('proj_a', 'vs_edit', 'file_edit');
    assert.deepEqual(await index.fileChunks('proj_a', 'vs_edit', 'file_edit'), []);
    assert.deepEqual(await search(index, 'deserts', { vectorStoreIds: ['vs_edit'] }), []);
  });

  test('removing a store removes its chunks and no other store\'s', async () => {
    await index.indexFile({ ...baseInput, vectorStoreId: 'vs_doomed', fileId: 'file_x', filename: 'x.txt', bytes: Buffer.from('Doomed store about magma.') });
    await index.removeStore('proj_a', 'vs_doomed');
    assert.deepEqual(await index.fileChunks('proj_a', 'vs_doomed', 'file_x'), []);
    assert.equal((await search(index, 'magma'))[0]?.fileId, 'file_volcano.txt');
  });

  test('indexes PDFs and Word documents; refuses unreadable and unsupported files', async () => {
    await index.indexFile({ ...baseInput, vectorStoreId: 'vs_docs', fileId: 'file_pdf', filename: 'r.pdf', bytes: minimalPdf(['Zebra census results']) });
    await index.indexFile({ ...baseInput, vectorStoreId: 'vs_docs', fileId: 'file_docx', filename: 'm.docx', bytes: minimalDocx(['Penguin colony memo']) });
    assert.equal((await search(index, 'zebra', { vectorStoreIds: ['vs_docs'] }))[0]?.fileId, 'file_pdf');
    assert.equal((await search(index, 'penguin', { vectorStoreIds: ['vs_docs'] }))[0]?.fileId, 'file_docx');
    await assertIngestionError(index.indexFile({ ...baseInput, fileId: 'file_bad', filename: 'bad.pdf', bytes: Buffer.from('garbage') }), 'invalid_file');
    await assertIngestionError(index.indexFile({ ...baseInput, fileId: 'file_img', filename: 'a.png', bytes: Buffer.from('x') }), 'unsupported_file');
  });

  test('a failing embedding server fails the file as server_error, keeping its earlier chunks', async () => {
    const broken = new FileSearchIndex(db, { embed: async () => Promise.reject(new Error('connection refused')) });
    await assertIngestionError(broken.indexFile({ ...baseInput, fileId: 'file_volcano.txt', filename: 'volcano.txt', bytes: Buffer.from('replacement') }), 'server_error');
    assert.deepEqual(await index.fileChunks('proj_a', 'vs_1', 'file_volcano.txt'), [documents['volcano.txt']]);
  });

  test('keeps every vector table in step with the chunks', { skip: TEST_DATABASE_URL && 'PostgreSQL keeps no vector tables' }, async () => {
    const { rows } = await sql<{ bytes: number; chunks: number }>`
      SELECT length(embedding) AS bytes, count(*) AS chunks FROM chunks WHERE embedding IS NOT NULL GROUP BY 1`.execute(db);
    assert.ok(rows.length >= 2, 'files were indexed with embeddings of two sizes');
    for (const { bytes, chunks } of rows) {
      const { rows: [vectors] } = await sql<{ count: number }>`SELECT count(*) AS count FROM ${sql.table(`chunk_vectors_${bytes / 4}`)}`.execute(db);
      assert.equal(vectors?.count, chunks);
    }
  });

  test('an aborted indexing stops and writes nothing', async () => {
    const controller = new AbortController();
    controller.abort();
    await assert.rejects(index.indexFile({ ...baseInput, fileId: 'file_aborted', filename: 'a.txt', bytes: Buffer.from('words'), signal: controller.signal }));
    assert.deepEqual(await index.fileChunks('proj_a', 'vs_1', 'file_aborted'), []);
  });
});
