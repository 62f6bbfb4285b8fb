import { type Kysely, sql } from 'kysely';
import type { Database } from '../../store/schema.js';

/** Which chunks a search may return. */
export interface SearchScope {
  projectId: string;
  vectorStoreIds: string[];
  /** Only these files, when given (what attribute filters leave). */
  fileIds?: string[];
}

/** Chunk ids, best first. */
export type Ranking = number[];

// Keeps a pathological query (a pasted document) from becoming a huge FTS expression.
const MAX_QUERY_TERMS = 64;

/** The float32 blob that sqlite-vec reads. */
export function vectorBlob(vector: number[]): Buffer {
  const floats = Float32Array.from(vector);
  return Buffer.from(floats.buffer, floats.byteOffset, floats.byteLength);
}

/**
 * An FTS5 expression matching any word of the query. Each word is quoted, and words hold only
 * letters, digits and combining marks, so no FTS5 operator or syntax character gets through.
 * Undefined when the query has no word at all.
 */
export function keywordQuery(query: string): string | undefined {
  const words = [...new Set(query.toLowerCase().match(/[\p{L}\p{N}\p{M}]+/gu) ?? [])].slice(0, MAX_QUERY_TERMS);
  return words.length ? words.map((word) => `"${word}"`).join(' OR ') : undefined;
}

function scopeCondition(scope: SearchScope) {
  const files = scope.fileIds ? sql`AND c.file_id IN (${sql.join(scope.fileIds)})` : sql``;
  return sql`c.project_id = ${scope.projectId} AND c.vector_store_id IN (${sql.join(scope.vectorStoreIds)}) ${files}`;
}

/** Chunks matching any query word, by BM25 (SQLite's bm25() is lower for better matches). */
export async function keywordRanking(db: Kysely<Database>, scope: SearchScope, match: string, depth: number): Promise<Ranking> {
  const { rows } = await sql<{ id: number }>`
    SELECT c.id FROM chunks_fts JOIN chunks c ON c.id = chunks_fts.rowid
    WHERE chunks_fts MATCH ${match} AND ${scopeCondition(scope)}
    ORDER BY bm25(chunks_fts), c.id LIMIT ${depth}`.execute(db);
  return rows.map((row) => row.id);
}

/**
 * Chunks nearest the query vector by exact cosine distance. Chunks embedded with a vector of
 * another size (another model) cannot be compared and are left out.
 */
export async function vectorRanking(db: Kysely<Database>, scope: SearchScope, vector: number[], depth: number): Promise<Ranking> {
  const blob = vectorBlob(vector);
  const { rows } = await sql<{ id: number }>`
    SELECT c.id FROM chunks c
    WHERE ${scopeCondition(scope)} AND c.embedding IS NOT NULL AND length(c.embedding) = ${blob.byteLength}
    ORDER BY vec_distance_cosine(c.embedding, ${blob}), c.id LIMIT ${depth}`.execute(db);
  return rows.map((row) => row.id);
}
