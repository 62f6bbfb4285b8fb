import { type Kysely, type RawBuilder, sql } from 'kysely';
import type { Database } from '../../store/schema.js';

/** Which chunks a search may return. */
export interface SearchScope {
  projectId: string;
  vectorStoreIds: string[];
  /** Only these files, when given (what attribute filters leave). */
  fileIds?: string[];
}

/**
 * Chunks, best first. `relevance` (0..1) is what the ranking knows of a chunk's absolute fit:
 * cosine similarity for vectors; keyword ranks carry none of their own (bm25 and ts_rank_cd are
 * unbounded), so 1.
 */
export type Ranking = { id: number; relevance: number }[];

/**
 * How one database ranks chunks. Each runs with the `db` given, which may be a transaction.
 * `vectorIndex` is a copy of the embeddings kept beside `chunks`, on databases that search one.
 */
export interface ChunkSearch {
  /** Chunks matching any of `words` (as `queryWords` gives them), most relevant first. */
  keywordRanking(db: Kysely<Database>, scope: SearchScope, words: string[], depth: number): Promise<Ranking>;
  /** Chunks nearest `vector` by exact cosine similarity; chunks embedded at another size are skipped. */
  vectorRanking(db: Kysely<Database>, scope: SearchScope, vector: Float32Array, depth: number): Promise<Ranking>;
  vectorIndex?: {
    /** Copies the embeddings of the chunks `condition` selects (over `chunks c`) once they are written. */
    add(db: Kysely<Database>, dimensions: number, condition: RawBuilder<unknown>): Promise<void>;
    /** Drops the copies for the chunks `condition` selects, before they are deleted. */
    remove(db: Kysely<Database>, condition: RawBuilder<unknown>): Promise<void>;
  };
}

// Keeps a pathological query (a pasted document) from becoming a huge keyword expression.
const MAX_QUERY_TERMS = 64;

/** The float32 little-endian blob stored in `chunks.embedding`, as sqlite-vec reads it. */
export function vectorBlob(vector: Float32Array | number[]): Buffer {
  const floats = vector instanceof Float32Array ? vector : Float32Array.from(vector);
  return Buffer.from(floats.buffer, floats.byteOffset, floats.byteLength);
}

/**
 * The distinct words of a query, lowercased. Words hold only letters, digits and combining marks,
 * so no operator or syntax character of FTS5 or tsquery gets through. Empty when there is none.
 */
export function queryWords(query: string): string[] {
  return [...new Set(query.toLowerCase().match(/[\p{L}\p{N}\p{M}]+/gu) ?? [])].slice(0, MAX_QUERY_TERMS);
}

/** A cosine similarity (-1..1) as a ranking's relevance. */
export function similarityRelevance(similarity: number): number {
  return Math.min(1, Math.max(0, similarity));
}

/** The scope as a condition on columns named as in `chunks` (and the vec0 tables), under `prefix`. */
export function scopeCondition(scope: SearchScope, prefix = 'c.'): RawBuilder<unknown> {
  const column = (name: string) => sql.ref(`${prefix}${name}`);
  const files = scope.fileIds ? sql`AND ${column('file_id')} IN (${sql.join(scope.fileIds)})` : sql``;
  return sql`${column('project_id')} = ${scope.projectId} AND ${column('vector_store_id')} IN (${sql.join(scope.vectorStoreIds)}) ${files}`;
}
