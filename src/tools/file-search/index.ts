import { type Insertable, type Kysely, type RawBuilder, sql } from 'kysely';
import type { Embedder } from '../../providers/embeddings.js';
import { dialectOf } from '../../store/dialect.js';
import type { ChunkRow, Database } from '../../store/schema.js';
import type { ChunkingOptions } from './chunk.js';
import { IngestionError } from './extract.js';
import { fuseRankings } from './fusion.js';
import { type ChunkSearch, queryWords, type Ranking, type SearchScope, vectorBlob } from './rankings.js';
import { PreparePool } from './prepare-pool.js';
import { postgresChunkSearch } from './search-postgres.js';
import { sqliteChunkSearch } from './search-sqlite.js';

export { AUTO_CHUNKING, type ChunkingOptions, chunkingViolation } from './chunk.js';
export { extractText, IngestionError, type IngestionErrorCode } from './extract.js';

export interface IndexFileInput {
  projectId: string;
  vectorStoreId: string;
  fileId: string;
  filename: string;
  bytes: Buffer;
  chunking: ChunkingOptions;
  signal?: AbortSignal;
}

export interface SearchInput extends SearchScope {
  query: string;
  maxResults: number;
  /** 0..1: hits scoring below it are dropped. */
  scoreThreshold: number;
  signal?: AbortSignal;
}

export interface SearchHit {
  vectorStoreId: string;
  fileId: string;
  chunkIndex: number;
  text: string;
  /** 0..1, higher is more relevant. */
  score: number;
}

// How many candidates each ranking contributes before fusion: well past the 50 results a search may ask for.
const RANKING_DEPTH = 100;
// Rows per INSERT, under SQLite's limit on bound parameters (PostgreSQL's is higher).
const INSERT_BATCH = 500;

/** The chunks (as `chunks c`) of one store, or of one file in it. */
function chunksOf(projectId: string, vectorStoreId: string, fileId?: string) {
  const file = fileId === undefined ? sql`` : sql`AND c.file_id = ${fileId}`;
  return sql`c.project_id = ${projectId} AND c.vector_store_id = ${vectorStoreId} ${file}`;
}

/** How the database `db` ranks chunks; a new ranker each call, for one FileSearchIndex. */
export function chunkSearchFor(db: Kysely<Database>): ChunkSearch {
  return dialectOf(db) === 'postgres' ? postgresChunkSearch() : sqliteChunkSearch;
}

/**
 * file_search's retrieval: files become chunks (text, keyword index entry, and an embedding when a
 * model is configured) in the store, and searches fuse vector similarity with keyword relevance.
 */
export class FileSearchIndex {
  readonly #search: ChunkSearch;

  readonly #prepare: PreparePool;

  constructor(
    readonly db: Kysely<Database>,
    readonly embedder: Embedder | undefined,
    prepare = new PreparePool(),
  ) {
    this.#search = chunkSearchFor(db);
    this.#prepare = prepare;
  }

  /** Stops the threads that read files; call when the process shuts down. */
  close(): Promise<void> {
    return this.#prepare.close();
  }

  /** Indexes a file into a vector store, replacing what an earlier indexing of it left there. */
  async indexFile(input: IndexFileInput): Promise<{ chunks: number; usageBytes: number }> {
    const pieces = await this.#prepare.prepare(input.filename, input.bytes, input.chunking);
    input.signal?.throwIfAborted();
    const vectors = await this.#embed(pieces.map((piece) => piece.text), input.signal);
    input.signal?.throwIfAborted();
    const rows: Insertable<ChunkRow>[] = pieces.map((piece, index) => ({
      project_id: input.projectId,
      vector_store_id: input.vectorStoreId,
      file_id: input.fileId,
      chunk_index: index,
      text: piece.text,
      token_count: piece.tokens,
      embedding: vectors ? vectorBlob(vectors[index]!) : null,
    }));
    const fileChunks = chunksOf(input.projectId, input.vectorStoreId, input.fileId);
    await this.db.transaction().execute(async (trx) => {
      await this.#delete(trx, fileChunks);
      for (let start = 0; start < rows.length; start += INSERT_BATCH) {
        await trx.insertInto('chunks').values(rows.slice(start, start + INSERT_BATCH)).execute();
      }
      if (vectors?.[0]) await this.#search.vectorIndex?.add(trx, vectors[0].length, fileChunks);
    });
    const usageBytes = rows.reduce((sum, row) => sum + Buffer.byteLength(row.text) + (row.embedding?.byteLength ?? 0), 0);
    return { chunks: rows.length, usageBytes };
  }

  async removeFile(projectId: string, vectorStoreId: string, fileId: string): Promise<void> {
    await this.db.transaction().execute((trx) => this.#delete(trx, chunksOf(projectId, vectorStoreId, fileId)));
  }

  async removeStore(projectId: string, vectorStoreId: string): Promise<void> {
    await this.db.transaction().execute((trx) => this.#delete(trx, chunksOf(projectId, vectorStoreId)));
  }

  /** A file's chunk texts, in document order. */
  async fileChunks(projectId: string, vectorStoreId: string, fileId: string): Promise<string[]> {
    const rows = await this.db
      .selectFrom('chunks')
      .select('text')
      .where('project_id', '=', projectId)
      .where('vector_store_id', '=', vectorStoreId)
      .where('file_id', '=', fileId)
      .orderBy('chunk_index')
      .execute();
    return rows.map((row) => row.text);
  }

  /** The best chunks for a query, best first, by hybrid ranking (keyword-only without an embedder). */
  async search(input: SearchInput): Promise<SearchHit[]> {
    if (input.vectorStoreIds.length === 0 || input.fileIds?.length === 0) return [];
    const rankings: Ranking[] = [];
    const words = queryWords(input.query);
    if (words.length) rankings.push(await this.#search.keywordRanking(this.db, input, words, RANKING_DEPTH));
    if (this.embedder && input.query.trim()) {
      const [vector] = await this.embedder.embed([input.query], input.signal);
      const ranking = vector ? await this.#search.vectorRanking(this.db, input, Float32Array.from(vector), RANKING_DEPTH) : [];
      // Empty only where no chunk in scope has an embedding (indexed without a model): nothing was compared.
      if (ranking.length) rankings.push(ranking);
    }
    const fused = fuseRankings(rankings)
      .filter((hit) => hit.score >= input.scoreThreshold)
      .slice(0, input.maxResults);
    if (fused.length === 0) return [];
    const rows = await this.db
      .selectFrom('chunks')
      .select(['id', 'vector_store_id', 'file_id', 'chunk_index', 'text'])
      .where('id', 'in', fused.map((hit) => hit.id))
      .execute();
    const byId = new Map(rows.map((row) => [row.id, row]));
    return fused.flatMap(({ id, score }) => {
      const row = byId.get(id);
      return row ? [{ vectorStoreId: row.vector_store_id, fileId: row.file_id, chunkIndex: row.chunk_index, text: row.text, score }] : [];
    });
  }

  async #delete(trx: Kysely<Database>, condition: RawBuilder<unknown>): Promise<void> {
    await this.#search.vectorIndex?.remove(trx, condition);
    await sql`DELETE FROM chunks AS c WHERE ${condition}`.execute(trx);
  }

  async #embed(texts: string[], signal: AbortSignal | undefined): Promise<number[][] | undefined> {
    if (!this.embedder || texts.length === 0) return undefined;
    try {
      const vectors = await this.embedder.embed(texts, signal);
      if (vectors.length !== texts.length) throw new Error(`got ${vectors.length} embeddings for ${texts.length} chunks`);
      return vectors;
    } catch (error) {
      if (signal?.aborted) throw error;
      throw new IngestionError('server_error', `Embedding the file's chunks failed: ${(error as Error).message}`);
    }
  }
}
