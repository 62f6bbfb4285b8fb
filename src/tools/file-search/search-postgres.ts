import { type Kysely, sql } from 'kysely';
import type { Database } from '../../store/schema.js';
import { type ChunkSearch, type Ranking, scopeCondition, similarityRelevance } from './rankings.js';

// At 256-dim float32, 128 MiB holds about 130,000 chunks' vectors.
const VECTOR_CACHE_FLOATS = 32 * 1024 * 1024;

interface CachedVector {
  vector: Float32Array;
  magnitude: number;
}

/**
 * PostgreSQL: keywords through the `keywords` tsvector column (GIN-indexed), vectors by exact
 * cosine computed here over the `chunks.embedding` blobs: without pgvector, SQL has no fast way to
 * read float32 out of bytea. Reading every blob in scope on each search costs ~200 ms per 12,000
 * chunks, so vectors are cached by chunk id. That is safe without invalidation because a chunk's
 * embedding never changes (re-indexing a file writes new rows) and serial ids are never reused; a
 * search still asks the database which chunks are in scope, so deletions by any server are seen.
 * One instance per database: the ids are that database's.
 */
export function postgresChunkSearch(): ChunkSearch {
  const cache = new Map<number, CachedVector>();
  let cachedFloats = 0;

  /** The vectors of chunks `ids`, in that order; undefined for a chunk deleted meanwhile. */
  async function vectorsOf(db: Kysely<Database>, ids: number[]): Promise<(CachedVector | undefined)[]> {
    const missing = ids.filter((id) => !cache.has(id));
    const fetched = new Map<number, CachedVector>();
    if (missing.length) {
      const { rows } = await sql<{ id: number; embedding: Buffer }>`
        SELECT id, embedding FROM chunks WHERE id = ANY(${missing})`.execute(db);
      for (const { id, embedding } of rows) {
        // Copied: pg's Buffers may start at any offset of a shared pool, and floats need alignment.
        const vector = new Float32Array(new Uint8Array(embedding).buffer);
        fetched.set(id, { vector, magnitude: norm(vector) });
      }
    }
    const vectors = ids.map((id) => cache.get(id) ?? fetched.get(id));
    for (const [id, entry] of fetched) {
      cache.set(id, entry);
      cachedFloats += entry.vector.length;
    }
    // Maps iterate in insertion order: the oldest entries go first.
    for (const [id, { vector }] of cache) {
      if (cachedFloats <= VECTOR_CACHE_FLOATS) break;
      cache.delete(id);
      cachedFloats -= vector.length;
    }
    return vectors;
  }

  return {
    // Words are letters, digits and marks only, so joining them with | is a valid to_tsquery input.
    // Stop words drop out; a query of nothing else is empty and matches no chunk.
    async keywordRanking(db, scope, words, depth): Promise<Ranking> {
      const { rows } = await sql<{ id: number }>`
        SELECT c.id FROM chunks c, to_tsquery('english', ${words.join(' | ')}) AS query
        WHERE c.keywords @@ query AND ${scopeCondition(scope)}
        ORDER BY ts_rank_cd(c.keywords, query) DESC, c.id LIMIT ${depth}`.execute(db);
      return rows.map((row) => ({ id: row.id, relevance: 1 }));
    },

    async vectorRanking(db, scope, query, depth): Promise<Ranking> {
      const { rows } = await sql<{ id: number }>`
        SELECT c.id FROM chunks c WHERE ${scopeCondition(scope)} AND octet_length(c.embedding) = ${query.byteLength}`.execute(db);
      const ids = rows.map((row) => row.id);
      const vectors = await vectorsOf(db, ids);
      const queryNorm = norm(query);
      const scored: { id: number; similarity: number }[] = [];
      vectors.forEach((entry, position) => {
        if (!entry) return;
        const { vector, magnitude } = entry;
        let dot = 0;
        for (let i = 0; i < vector.length; i++) dot += vector[i]! * query[i]!;
        scored.push({ id: ids[position]!, similarity: magnitude * queryNorm === 0 ? 0 : dot / (magnitude * queryNorm) });
      });
      return scored
        .sort((a, b) => b.similarity - a.similarity || a.id - b.id)
        .slice(0, depth)
        .map(({ id, similarity }) => ({ id, relevance: similarityRelevance(similarity) }));
    },
  };
}

function norm(vector: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < vector.length; i++) sum += vector[i]! * vector[i]!;
  return Math.sqrt(sum);
}
