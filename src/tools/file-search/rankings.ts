import { type Kysely, sql } from 'kysely';
import type { Database } from '../../store/schema.js';
import { nearestVectors } from './vector-tables.js';

/** Which chunks a search may return. */
export interface SearchScope {
  projectId: string;
  vectorStoreIds: string[];
  /** Only these files, when given (what attribute filters leave). */
  fileIds?: string[];
}

/**
 * Chunks, best first. `relevance` (0..1) is what the ranking knows of a chunk's absolute fit:
 * cosine similarity for vectors; keyword ranks carry none of their own (bm25 is unbounded), so 1.
 */
export type Ranking = { id: number; relevance: number }[];

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

/** The scope as a condition on columns named as in `chunks` and the vec0 tables, under `prefix`. */
function scopeCondition(scope: SearchScope, prefix = 'c.') {
  const column = (name: string) => sql.ref(`${prefix}${name}`);
  const files = scope.fileIds ? sql`AND ${column('file_id')} IN (${sql.join(scope.fileIds)})` : sql``;
  return sql`${column('project_id')} = ${scope.projectId} AND ${column('vector_store_id')} IN (${sql.join(scope.vectorStoreIds)}) ${files}`;
}

/** Chunks matching any query word, by BM25 (SQLite's bm25() is lower for better matches). */
export async function keywordRanking(db: Kysely<Database>, scope: SearchScope, match: string, depth: number): Promise<Ranking> {
  const { rows } = await sql<{ id: number }>`
    SELECT c.id FROM chunks_fts JOIN chunks c ON c.id = chunks_fts.rowid
    WHERE chunks_fts MATCH ${match} AND ${scopeCondition(scope)}
    ORDER BY bm25(chunks_fts), c.id LIMIT ${depth}`.execute(db);
  return rows.map((row) => ({ id: row.id, relevance: 1 }));
}

/** Chunks nearest the query vector by exact cosine distance. */
export async function vectorRanking(db: Kysely<Database>, scope: SearchScope, vector: number[], depth: number): Promise<Ranking> {
  const neighbours = await nearestVectors(db, Float32Array.from(vector), scopeCondition(scope, ''), depth);
  return neighbours.map(({ id, distance }) => ({ id, relevance: Math.min(1, Math.max(0, 1 - distance)) }));
}
