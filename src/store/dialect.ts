import { type Kysely, PostgresAdapter, type RawBuilder, sql } from 'kysely';

/** The two databases Stepwise runs on: SQLite embedded, PostgreSQL for scale-out. */
export type DialectName = 'sqlite' | 'postgres';

export function dialectOf(db: Kysely<any>): DialectName {
  return db.getExecutor().adapter instanceof PostgresAdapter ? 'postgres' : 'sqlite';
}

/** A text field of the JSON text in column `column`, as SQL. */
export function jsonText(db: Kysely<any>, column: string, field: string): RawBuilder<string | null> {
  return dialectOf(db) === 'postgres'
    ? sql<string | null>`(${sql.ref(column)}::jsonb ->> ${field})`
    : sql<string | null>`json_extract(${sql.ref(column)}, ${`$.${field}`})`;
}

/** A number field of the JSON text in column `column`, as SQL; 0 where absent. */
export function jsonNumber(db: Kysely<any>, column: string, field: string): RawBuilder<number> {
  return sql<number>`coalesce(cast(${jsonText(db, column, field)} as bigint), 0)`;
}

/** The value of metadata key `key` in the JSON text in column `column`, as SQL; any key, passed as a parameter. */
export function jsonMetadataValue(db: Kysely<any>, column: string, key: string): RawBuilder<string | null> {
  return dialectOf(db) === 'postgres'
    ? sql<string | null>`(${sql.ref(column)}::jsonb -> 'metadata' ->> ${key})`
    : sql<string | null>`(select value from json_each(${sql.ref(column)}, '$.metadata') where key = ${key})`;
}
