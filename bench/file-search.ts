/**
 * file_search retrieval at scale: ingestion rate through FileSearchIndex, hybrid search latency,
 * and recall@10 of the store's vector ranking against exact brute force in JS on the same vectors.
 * Synthetic corpus from a seeded PRNG; embeddings are 256-dim bag-of-words vectors computed in
 * process, so texts sharing words are near and the vector ranking has real structure to find.
 * Also: how long the main thread stalls while PDFs are read and chunked, in this thread (the
 * baseline) and on the worker threads ingestion uses, measured with monitorEventLoopDelay.
 * Usage: npm run bench:file-search [-- FILES QUERIES]
 * Runs on SQLite in a temporary directory; with DATABASE_URL=postgres://..., on a throwaway
 * database that it creates on that server and drops afterwards.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import type { Embedder } from '../src/providers/embeddings.js';
import { dialectOf } from '../src/store/dialect.js';
import { migrateToLatest, openDatabase } from '../src/store/database.js';
import { type ChunkingOptions, chunkText } from '../src/tools/file-search/chunk.js';
import { chunkSearchFor, extractText, FileSearchIndex } from '../src/tools/file-search/index.js';
import { PreparePool } from '../src/tools/file-search/prepare-pool.js';
import { minimalPdf } from '../test/support/documents.js';
import { bagOfWordsEmbedding } from '../test/support/scripted-model.js';
import { createThrowawayDatabase } from '../test/support/test-database.js';

const fileCount = Number(process.argv[2] ?? 120);
const queryCount = Number(process.argv[3] ?? 300);
const DIMENSIONS = 256;
const WORDS_PER_FILE = 1_800;
const VOCABULARY_SIZE = 5_000;
const chunking = { maxChunkSizeTokens: 100, chunkOverlapTokens: 20 };
const scope = { projectId: 'proj_bench', vectorStoreIds: ['vs_bench'] };

/** mulberry32: small, fast, and the same corpus on every run. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

const random = seededRandom(42);
const syllables = ['ka', 'lo', 'mi', 'ren', 'tu', 'sa', 'vor', 'ni', 'pel', 'dra', 'qu', 'ix', 'ob', 'ze', 'hal', 'fen'];
const vocabulary = Array.from({ length: VOCABULARY_SIZE }, (_, index) => {
  const length = 2 + (index % 3);
  return Array.from({ length }, () => syllables[Math.floor(random() * syllables.length)]).join('') + index.toString(36);
});
// Zipf-like word frequencies, as in real text: a few words are everywhere, most are rare.
const pickWord = () => vocabulary[Math.floor(VOCABULARY_SIZE * random() ** 3)]!;
const fileText = () => Array.from({ length: WORDS_PER_FILE }, (_, index) => pickWord() + ((index + 1) % 14 === 0 ? '.' : '')).join(' ');

function percentile(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** The longest and 99th-percentile stall of this thread's event loop while `work` runs, and how long it took. */
async function stallsDuring(work: () => Promise<unknown>): Promise<{ maxMs: number; p99Ms: number; seconds: number }> {
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  histogram.enable();
  const start = performance.now();
  await work();
  const seconds = (performance.now() - start) / 1000;
  histogram.disable();
  return { maxMs: histogram.max / 1e6, p99Ms: histogram.percentile(99) / 1e6, seconds };
}

/** Reads and chunks PDFs one after another, as ingestion jobs would, either here or on the pool. */
async function preparePdfs(pdfs: Buffer[], prepare: (bytes: Buffer, options: ChunkingOptions) => Promise<unknown>): Promise<void> {
  for (const pdf of pdfs) {
    await prepare(pdf, chunking);
    // Lets timers run between files, as other work would.
    await new Promise((resolve) => setImmediate(resolve));
  }
}

const cosine = (a: number[], b: number[]) => a.reduce((sum, value, index) => sum + value * b[index]!, 0);

const embedder: Embedder = {
  embed: async (texts) => texts.map((text) => bagOfWordsEmbedding(text, DIMENSIONS)),
};

const dir = mkdtempSync(join(tmpdir(), 'stepwise-bench-file-search-'));
const database = process.env.DATABASE_URL ? await createThrowawayDatabase(process.env.DATABASE_URL) : undefined;
const db = openDatabase({ dataDir: dir, databaseUrl: database?.url });
try {
  await migrateToLatest(db);
  const index = new FileSearchIndex(db, embedder);
  const chunkSearch = chunkSearchFor(db);
  const files = Array.from({ length: fileCount }, (_, number) => ({ fileId: `file_${number}`, text: fileText() }));

  let chunkCount = 0;
  const ingestStart = performance.now();
  for (const file of files) {
    const { chunks } = await index.indexFile({ ...scope, vectorStoreId: 'vs_bench', fileId: file.fileId, filename: `${file.fileId}.txt`, bytes: Buffer.from(file.text), chunking });
    chunkCount += chunks;
  }
  const ingestSeconds = (performance.now() - ingestStart) / 1000;

  const rows = await db.selectFrom('chunks').select(['id', 'text']).where('project_id', '=', scope.projectId).execute();
  const chunkVectors = new Map(rows.map((row) => [String(row.id), bagOfWordsEmbedding(row.text, DIMENSIONS)]));

  // Queries are a handful of words from a random chunk, as a user recalls a passage.
  const queries = Array.from({ length: queryCount }, () => {
    const words = rows[Math.floor(random() * rows.length)]!.text.split(/\s+/).filter(Boolean);
    const start = Math.floor(random() * Math.max(1, words.length - 6));
    return words.slice(start, start + 6).join(' ');
  });

  const searchLatencies: number[] = [];
  const vectorLatencies: number[] = [];
  let recallSum = 0;
  for (const query of queries) {
    let start = performance.now();
    await index.search({ ...scope, query, maxResults: 10, scoreThreshold: 0 });
    searchLatencies.push(performance.now() - start);

    const vector = bagOfWordsEmbedding(query, DIMENSIONS);
    start = performance.now();
    const found = await chunkSearch.vectorRanking(db, scope, Float32Array.from(vector), 10);
    vectorLatencies.push(performance.now() - start);

    const exact = [...chunkVectors].map(([id, chunkVector]) => ({ id, similarity: cosine(vector, chunkVector) })).sort((a, b) => b.similarity - a.similarity);
    const tenth = exact[9]!.similarity;
    const similarity = new Map(exact.map((entry) => [entry.id, entry.similarity]));
    // Ties at the 10th place make "the" exact top 10 ambiguous: any chunk at least as similar counts.
    recallSum += found.filter(({ id }) => similarity.get(String(id))! >= tenth - 1e-6).length / 10;
  }

  const pdfs = Array.from({ length: 6 }, () => minimalPdf(Array.from({ length: 2_000 }, () => fileText().slice(0, 300))));
  const here = async (bytes: Buffer, options: ChunkingOptions) => chunkText(await extractText('doc.pdf', bytes), options);
  const pool = new PreparePool();
  const onThreads = (bytes: Buffer, options: ChunkingOptions) => pool.prepare('doc.pdf', bytes, options);
  // Warmed up first, so that loading the PDF library counts in neither.
  await preparePdfs(pdfs.slice(0, 1), here);
  await preparePdfs(pdfs.slice(0, 1), onThreads);
  const inThread = await stallsDuring(() => preparePdfs(pdfs, here));
  const onPool = await stallsDuring(() => preparePdfs(pdfs, onThreads));
  await pool.close();
  await index.close();

  const ms = (value: number) => `${value.toFixed(2)} ms`;
  const postgres = dialectOf(db) === 'postgres';
  console.log(`database: ${postgres ? 'PostgreSQL' : 'SQLite'}`);
  console.log(`corpus: ${fileCount} files, ${chunkCount} chunks of <= ${chunking.maxChunkSizeTokens} tokens (overlap ${chunking.chunkOverlapTokens}), ${DIMENSIONS}-dim embeddings`);
  console.log(`ingestion: ${ingestSeconds.toFixed(1)} s, ${Math.round(chunkCount / ingestSeconds)} chunks/s (extract, chunk, embed in process, write rows + ${postgres ? 'tsvector' : 'FTS5 + vec0'})`);
  console.log(`hybrid search (top 10, ${queryCount} queries): p50 ${ms(percentile(searchLatencies, 50))}, p95 ${ms(percentile(searchLatencies, 95))}`);
  console.log(`vector ranking alone: p50 ${ms(percentile(vectorLatencies, 50))}, p95 ${ms(percentile(vectorLatencies, 95))}`);
  console.log(`vector recall@10 vs exact brute force: ${(recallSum / queryCount).toFixed(4)}`);
  const pdfKb = Math.round(pdfs.reduce((sum, pdf) => sum + pdf.length, 0) / pdfs.length / 1024);
  const stalls = ({ maxMs, p99Ms, seconds }: { maxMs: number; p99Ms: number; seconds: number }) => `longest ${ms(maxMs)}, p99 ${ms(p99Ms)} (${seconds.toFixed(1)} s in all)`;
  console.log(`main-thread stalls reading ${pdfs.length} PDFs of ${pdfKb} KiB: in this thread ${stalls(inThread)}; on worker threads ${stalls(onPool)}`);
} finally {
  await db.destroy();
  await database?.drop();
  rmSync(dir, { recursive: true, force: true });
}
