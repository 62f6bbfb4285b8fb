import { type Kysely, type RawBuilder, sql } from 'kysely';
import type { Database } from '../../store/schema.js';
import { vectorBlob } from './rankings.js';

/**
 * sqlite-vec's vec0 tables, one per embedding size (a vec0 column has a fixed dimension, and the
 * model can change), created on first use. They copy `chunks.embedding`, which stays the record:
 * vec0 scans vectors in C, several times faster than calling vec_distance_cosine row by row.
 */
function vectorTable(dimensions: number) {
  if (!Number.isInteger(dimensions) || dimensions <= 0) throw new RangeError(`invalid embedding size ${dimensions}`);
  return sql.table(`chunk_vectors_${dimensions}`);
}

async function vectorTableExists(db: Kysely<Database>, dimensions: number): Promise<boolean> {
  const { rows } = await sql`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ${`chunk_vectors_${dimensions}`}`.execute(db);
  return rows.length > 0;
}

/** Copies the embeddings of the chunks `condition` selects (over `chunks c`) into their vec0 table. */
export async function addVectors(db: Kysely<Database>, dimensions: number, condition: RawBuilder<unknown>): Promise<void> {
  await sql`CREATE VIRTUAL TABLE IF NOT EXISTS ${vectorTable(dimensions)} USING vec0(
    id INTEGER PRIMARY KEY, vector_store_id TEXT PARTITION KEY, project_id TEXT, file_id TEXT,
    embedding float[${sql.raw(String(dimensions))}] distance_metric=cosine)`.execute(db);
  await sql`INSERT INTO ${vectorTable(dimensions)} (id, vector_store_id, project_id, file_id, embedding)
    SELECT c.id, c.vector_store_id, c.project_id, c.file_id, c.embedding FROM chunks c
    WHERE ${condition} AND length(c.embedding) = ${dimensions * 4}`.execute(db);
}

/** Drops the vectors of the chunks `condition` selects; call it before deleting those chunks. */
export async function removeVectors(db: Kysely<Database>, condition: RawBuilder<unknown>): Promise<void> {
  const { rows } = await sql<{ bytes: number }>`
    SELECT DISTINCT length(c.embedding) AS bytes FROM chunks c WHERE ${condition} AND c.embedding IS NOT NULL`.execute(db);
  for (const { bytes } of rows) {
    await sql`DELETE FROM ${vectorTable(bytes / 4)} WHERE id IN (SELECT c.id FROM chunks c WHERE ${condition})`.execute(db);
  }
}

export interface Neighbour {
  id: number;
  /** Cosine distance, 0 (same direction) to 2. */
  distance: number;
}

/**
 * The `depth` chunks nearest `vector` (exact search) among those `filter` allows; `filter` may use
 * only the vec0 table's columns (vector_store_id, project_id, file_id). Chunks embedded at another
 * size (by another model) cannot be compared and are not considered.
 */
export async function nearestVectors(db: Kysely<Database>, vector: Float32Array, filter: RawBuilder<unknown>, depth: number): Promise<Neighbour[]> {
  if (!(await vectorTableExists(db, vector.length))) return [];
  const { rows } = await sql<Neighbour>`
    SELECT id, distance FROM ${vectorTable(vector.length)} WHERE embedding MATCH ${vectorBlob(vector)} AND k = ${depth} AND ${filter}`.execute(db);
  // With several partitions (stores), vec0 returns k rows from each; SQLite would push an SQL
  // LIMIT into the vec0 query, which refuses LIMIT beside k.
  return rows.sort((a, b) => a.distance - b.distance || a.id - b.id).slice(0, depth);
}
