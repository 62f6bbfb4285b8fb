import { sql } from 'kysely';
import { type ChunkSearch, type Ranking, scopeCondition, similarityRelevance } from './rankings.js';
import { addVectors, nearestVectors, removeVectors } from './vector-tables.js';

/** SQLite: keywords through the FTS5 index, vectors through sqlite-vec's vec0 tables. */
export const sqliteChunkSearch: ChunkSearch = {
  // bm25() is lower for better matches. Each word is quoted: a phrase of one word.
  async keywordRanking(db, scope, words, depth): Promise<Ranking> {
    const match = words.map((word) => `"${word}"`).join(' OR ');
    const { rows } = await sql<{ id: number }>`
      SELECT c.id FROM chunks_fts JOIN chunks c ON c.id = chunks_fts.rowid
      WHERE chunks_fts MATCH ${match} AND ${scopeCondition(scope)}
      ORDER BY bm25(chunks_fts), c.id LIMIT ${depth}`.execute(db);
    return rows.map((row) => ({ id: row.id, relevance: 1 }));
  },

  async vectorRanking(db, scope, vector, depth): Promise<Ranking> {
    const neighbours = await nearestVectors(db, vector, scopeCondition(scope, ''), depth);
    return neighbours.map(({ id, distance }) => ({ id, relevance: similarityRelevance(1 - distance) }));
  },

  vectorIndex: { add: addVectors, remove: removeVectors },
};
