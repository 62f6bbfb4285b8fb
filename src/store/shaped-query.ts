import { isDeepStrictEqual } from 'node:util';
import { type Compilable, CompiledQuery, type Kysely, type QueryResult } from 'kysely';
import { dialectOf } from './dialect.js';
import { nameStatement } from './named-statements.js';

/**
 * SQL text by query shape (dialect, then what the caller names: table, operation, columns).
 * Building and compiling a query in Kysely costs more than SQLite takes to run these small
 * statements, and a shape's text never changes: it is compiled once, and later queries of the
 * shape send the text with their parameters.
 */
const compiledSql = new Map<string, string>();

/**
 * Runs the query `build` makes, for a query of this `shape` with these `parameters` (in the order
 * the SQL takes them, which the first compile of the shape checks). A query of no `shape` is
 * compiled anew.
 */
export async function executeShaped<Row>(db: Kysely<any>, shape: string | undefined, parameters: unknown[], build: () => Compilable<unknown>): Promise<QueryResult<Row>> {
  if (shape === undefined) return db.executeQuery<Row>(build().compile());
  const key = `${dialectOf(db)} ${shape}`;
  const text = compiledSql.get(key);
  if (text !== undefined) return db.executeQuery<Row>(CompiledQuery.raw(text, parameters));
  const compiled = build().compile();
  if (!isDeepStrictEqual(compiled.parameters, parameters)) throw new Error(`${key}: the parameters are not in the order its SQL takes them`);
  compiledSql.set(key, compiled.sql);
  if (dialectOf(db) === 'postgres') nameStatement(compiled);
  return db.executeQuery<Row>(CompiledQuery.raw(compiled.sql, parameters));
}

/**
 * The shape of rows to insert together, and their parameters in the order of the SQL: the same
 * columns in the same order in every row, which is how Kysely lays them out. Undefined for rows
 * that differ, which Kysely pads with DEFAULT.
 */
export function rowsShape(rows: Record<string, unknown>[]): { shape: string; parameters: unknown[] } | undefined {
  const columns = Object.keys(rows[0] ?? {}).join();
  if (rows.some((row) => Object.keys(row).join() !== columns)) return undefined;
  return { shape: `${rows.length}x(${columns})`, parameters: rows.flatMap((row) => Object.values(row)) };
}
