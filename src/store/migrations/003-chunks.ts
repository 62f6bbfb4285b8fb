import { type Kysely, sql } from 'kysely';
import { dialectOf } from '../dialect.js';

export async function up(db: Kysely<unknown>): Promise<void> {
  const postgres = dialectOf(db) === 'postgres';
  await db.schema
    .createTable('chunks')
    .addColumn('id', postgres ? 'serial' : 'integer', (col) => col.primaryKey())
    .addColumn('project_id', 'text', (col) => col.notNull())
    .addColumn('vector_store_id', 'text', (col) => col.notNull())
    .addColumn('file_id', 'text', (col) => col.notNull())
    .addColumn('chunk_index', 'integer', (col) => col.notNull())
    .addColumn('text', 'text', (col) => col.notNull())
    .addColumn('token_count', 'integer', (col) => col.notNull())
    // float32 little-endian, as sqlite-vec reads it; null when no embedding model is configured.
    .addColumn('embedding', postgres ? 'bytea' : 'blob')
    .execute();
  await db.schema.createIndex('chunks_store_file').on('chunks').columns(['vector_store_id', 'file_id', 'chunk_index']).execute();
  if (postgres) return createKeywordIndexPostgres(db);

  // An external-content index: the text lives once, in `chunks`; the triggers keep the index in step.
  await sql`CREATE VIRTUAL TABLE chunks_fts USING fts5(text, content='chunks', content_rowid='id', tokenize='porter unicode61')`.execute(db);
  await sql`CREATE TRIGGER chunks_fts_insert AFTER INSERT ON chunks BEGIN
    INSERT INTO chunks_fts(rowid, text) VALUES (new.id, new.text);
  END`.execute(db);
  await sql`CREATE TRIGGER chunks_fts_delete AFTER DELETE ON chunks BEGIN
    INSERT INTO chunks_fts(chunks_fts, rowid, text) VALUES ('delete', old.id, old.text);
  END`.execute(db);
  await sql`CREATE TRIGGER chunks_fts_update AFTER UPDATE OF text ON chunks BEGIN
    INSERT INTO chunks_fts(chunks_fts, rowid, text) VALUES ('delete', old.id, old.text);
    INSERT INTO chunks_fts(rowid, text) VALUES (new.id, new.text);
  END`.execute(db);
}

/** PostgreSQL's full-text search: a stored tsvector beside the text, kept in step by the database. */
async function createKeywordIndexPostgres(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE chunks ADD COLUMN keywords tsvector GENERATED ALWAYS AS (to_tsvector('english', text)) STORED`.execute(db);
  await sql`CREATE INDEX chunks_keywords ON chunks USING gin (keywords)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  if (dialectOf(db) === 'postgres') return db.schema.dropTable('chunks').execute();
  // The vec0 tables that file_search created at run time, one per embedding size (chunk_vectors_N).
  const { rows } = await sql<{ name: string }>`
    SELECT name FROM sqlite_master WHERE type = 'table' AND name GLOB 'chunk_vectors_[0-9]*' AND sql LIKE 'CREATE VIRTUAL TABLE%'`.execute(db);
  for (const { name } of rows) await sql`DROP TABLE ${sql.table(name)}`.execute(db);
  await sql`DROP TABLE chunks_fts`.execute(db);
  await db.schema.dropTable('chunks').execute();
}
