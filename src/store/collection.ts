import type { Compilable, Kysely, QueryResult } from 'kysely';
import { dialectOf, jsonMetadataValue } from './dialect.js';
import { executeShaped } from './shaped-query.js';

export type CollectionName =
  | 'assistants'
  | 'threads'
  | 'messages'
  | 'runs'
  | 'run_steps'
  | 'files'
  | 'uploads'
  | 'upload_parts'
  | 'vector_stores'
  | 'vector_store_files'
  | 'file_batches';

/** Cursor pagination as the spec defines it: `after`/`before` are ids, in the requested order. */
export interface PageQuery {
  limit: number;
  order: 'asc' | 'desc';
  after?: string | undefined;
  before?: string | undefined;
}

export interface Page<T> {
  data: T[];
  hasMore: boolean;
}

/** Column filters a list may apply, e.g. `{ thread_id }` or `{ run_id }`. */
export type Filter = Partial<Record<'id' | 'thread_id' | 'run_id' | 'status' | 'purpose' | 'upload_id' | 'vector_store_id' | 'batch_id', string>>;

/** Metadata pairs a listed object must all have, e.g. `{ user: 'u_1' }`. */
export type MetadataMatch = Record<string, string>;

export interface CollectionOptions<T> {
  /** The indexed columns that change with the object (a status), derived from it so they never disagree with its JSON. */
  columns?: (doc: T) => Record<string, string | number | null>;
  /**
   * The indexed columns of where the object belongs (its thread, run, vector store), which never
   * change: written once, so that updates leave their index entries alone.
   */
  placement?: (doc: T) => Record<string, string | number | null>;
  /** Columns that, with `id`, identify a row, where an id alone does not (a file in several vector stores). */
  key?: (doc: T) => Filter;
}

/**
 * PostgreSQL text cannot hold NUL, so no id or column value stored holds one: a lookup by such a
 * value (a guessed id, a cursor) matches nothing, and is not sent to the database, which would refuse it.
 */
function matchesNothing(...values: (string | undefined)[]): boolean {
  return values.some((value) => value?.includes('\u0000'));
}

/** Rows for one table, as `Collection.rows` builds them. */
export interface TableRows {
  table: CollectionName;
  rows: Record<string, unknown>[];
}

/** A write of one object's new JSON, made only while the stored JSON is `expectedData` (when given). */
export interface Replacement {
  table: CollectionName;
  projectId: string;
  id: string;
  values: Record<string, unknown>;
  expectedData: string | undefined;
}

interface Document {
  id: string;
  created_at: number;
}

/** The columns to write: Kysely leaves out those whose value is undefined, and so must a query's shape. */
function defined(values: Record<string, unknown>): Record<string, unknown> {
  for (const key in values) if (values[key] === undefined) delete values[key];
  return values;
}

/**
 * One table of stored API objects. `columns` derives the indexed columns from the object, so they
 * can never disagree with the JSON.
 */
export class Collection<T extends Document> {
  // Kysely cannot type a query over a table chosen at run time; all such loose typing stays in this class.
  readonly #db: Kysely<any>;
  readonly #table: CollectionName;
  readonly #options: CollectionOptions<T>;
  readonly #columns: (doc: T) => Record<string, string | number | null>;
  readonly #placement: (doc: T) => Record<string, string | number | null>;
  readonly #key: (doc: T) => Filter;

  constructor(db: Kysely<any>, table: CollectionName, options: CollectionOptions<T> = {}) {
    this.#db = db;
    this.#table = table;
    this.#options = options;
    this.#columns = options.columns ?? (() => ({}));
    this.#placement = options.placement ?? (() => ({}));
    this.#key = options.key ?? (() => ({}));
  }

  get table(): CollectionName {
    return this.#table;
  }

  #execute(shape: string, parameters: unknown[], build: () => Compilable<unknown>): Promise<QueryResult<{ data: string }>> {
    return executeShaped(this.#db, `${this.#table} ${shape}`, parameters, build);
  }

  async insert(projectId: string, doc: T): Promise<T> {
    const values = this.#row(projectId, doc);
    await this.#execute(`insert ${Object.keys(values).join()}`, Object.values(values), () => this.#db.insertInto(this.#table).values(values));
    return doc;
  }

  /** The rows `insert` would write for `docs`, for `Store.insertAll`. */
  rows(projectId: string, docs: T[]): TableRows {
    return { table: this.#table, rows: docs.map((doc) => this.#row(projectId, doc)) };
  }

  #row(projectId: string, doc: T): Record<string, unknown> {
    return defined({ id: doc.id, project_id: projectId, created_at: doc.created_at, data: JSON.stringify(doc), ...this.#placement(doc), ...this.#columns(doc) });
  }

  get(projectId: string, id: string, filter: Filter = {}): Promise<T | undefined> {
    return this.#get(projectId, id, filter, false);
  }

  /**
   * Inside a transaction that will write the row back: reads it and holds it until the transaction
   * ends, so no other transaction changes it in between (a read-modify-write on PostgreSQL, whose
   * transactions otherwise see each other's commits). SQLite runs one transaction at a time anyway.
   */
  getForUpdate(projectId: string, id: string, filter: Filter = {}): Promise<T | undefined> {
    return this.#get(projectId, id, filter, dialectOf(this.#db) === 'postgres');
  }

  async #get(projectId: string, id: string, filter: Filter, lockRow: boolean): Promise<T | undefined> {
    if (matchesNothing(id, ...Object.values(filter))) return undefined;
    const { rows } = await this.#execute(`get ${Object.keys(filter).join()} ${lockRow ? 'for update' : ''}`, [projectId, id, ...Object.values(filter)], () => {
      let query = this.#db.selectFrom(this.#table).select('data').where('project_id', '=', projectId).where('id', '=', id);
      for (const [column, value] of Object.entries(filter)) query = query.where(column, '=', value);
      return lockRow ? query.forUpdate() : query;
    });
    return rows[0] ? (JSON.parse(rows[0].data) as T) : undefined;
  }

  async update(projectId: string, doc: T): Promise<T> {
    await this.updateIf(projectId, doc);
    return doc;
  }

  /**
   * Reads the object, passes it to `change` and writes back what `change` returns, with no other
   * write to the object in between, so concurrent changes to different fields (a client's metadata,
   * the engine's status) never undo each other. `change` returning undefined writes nothing.
   * Resolves to what was written, or undefined.
   */
  async modify(projectId: string, id: string, change: (doc: T) => T | undefined, filter: Filter = {}): Promise<T | undefined> {
    if (!this.#db.isTransaction) {
      return this.#db.transaction().execute((trx) => new Collection<T>(trx, this.#table, this.#options).modify(projectId, id, change, filter));
    }
    const doc = await this.getForUpdate(projectId, id, filter);
    const changed = doc && change(doc);
    if (changed) await this.update(projectId, changed);
    return changed;
  }

  /**
   * Writes `next` only while the stored object is still exactly `expected` (as this process last
   * read or wrote it): a change without a read first, for a writer that holds the current object.
   * False when anyone changed the object meanwhile; the caller then reads it again (`modify`).
   */
  replace(projectId: string, expected: T, next: T): Promise<boolean> {
    return this.apply(this.replacement(projectId, expected, next));
  }

  /** The write of `next` over `expected` (over whatever is stored, when undefined), for `replace` and `Store.replaceAll`. */
  replacement(projectId: string, expected: T | undefined, next: T): Replacement {
    return { table: this.#table, projectId, id: next.id, values: this.#values(next), expectedData: expected && JSON.stringify(expected) };
  }

  /** Makes a replacement of this collection's objects; false when its object is gone or not the one expected. */
  apply({ projectId, id, values, expectedData }: Replacement): Promise<boolean> {
    return this.#write(projectId, id, values, expectedData === undefined ? {} : { data: expectedData });
  }

  /** Writes `doc` only while the row still has the expected status: a compare-and-set for state machines. */
  updateIf(projectId: string, doc: T, expectedStatus?: string): Promise<boolean> {
    return this.#write(projectId, doc.id, this.#values(doc), { ...this.#key(doc), ...(expectedStatus !== undefined && { status: expectedStatus }) });
  }

  /** The columns an update writes: the JSON and the indexed columns that change with it. */
  #values(doc: T): Record<string, unknown> {
    return defined({ data: JSON.stringify(doc), ...this.#columns(doc) });
  }

  /** Writes `values` to the row of `id` while its columns hold what `conditions` says; false when none does. */
  async #write(projectId: string, id: string, values: Record<string, unknown>, conditions: Record<string, unknown>): Promise<boolean> {
    if (matchesNothing(id)) return false;
    const shape = `update ${Object.keys(values).join()} where ${Object.keys(conditions).join()}`;
    const result = await this.#execute(shape, [...Object.values(values), projectId, id, ...Object.values(conditions)], () => {
      let query = this.#db.updateTable(this.#table).set(values).where('project_id', '=', projectId).where('id', '=', id);
      for (const [column, value] of Object.entries(conditions)) query = query.where(column, '=', value);
      return query;
    });
    return (result.numAffectedRows ?? 0n) > 0n;
  }

  async delete(projectId: string, id: string): Promise<boolean> {
    if (matchesNothing(id)) return false;
    const result = await this.#db.deleteFrom(this.#table).where('project_id', '=', projectId).where('id', '=', id).executeTakeFirst();
    return result.numDeletedRows > 0n;
  }

  async deleteWhere(projectId: string, filter: Filter): Promise<void> {
    if (matchesNothing(...Object.values(filter))) return;
    let query = this.#db.deleteFrom(this.#table).where('project_id', '=', projectId);
    for (const [column, value] of Object.entries(filter)) query = query.where(column, '=', value);
    await query.execute();
  }

  /** Every matching object in creation order; for filters known to select few rows. */
  async all(projectId: string, filter: Filter): Promise<T[]> {
    if (matchesNothing(...Object.values(filter))) return [];
    let query = this.#db.selectFrom(this.#table).select('data').where('project_id', '=', projectId);
    for (const [column, value] of Object.entries(filter)) query = query.where(column, '=', value);
    const rows = await query.orderBy('id', 'asc').execute();
    return rows.map((row) => JSON.parse(row.data as string) as T);
  }

  /** Ids sort by creation (ULID suffix), so every page is one range scan on the primary key. */
  async list(projectId: string, filter: Filter, page: PageQuery, metadata: MetadataMatch = {}): Promise<Page<T>> {
    if (matchesNothing(...Object.values(filter), ...Object.entries(metadata).flat(), page.after, page.before)) return { data: [], hasMore: false };
    // `before` pages are read backwards from the cursor, then put back in the requested order.
    const reverse = page.before !== undefined && page.after === undefined;
    const scanOrder = reverse ? (page.order === 'asc' ? 'desc' : 'asc') : page.order;
    let query = this.#db.selectFrom(this.#table).select('data').where('project_id', '=', projectId);
    for (const [column, value] of Object.entries(filter)) query = query.where(column, '=', value);
    for (const [key, value] of Object.entries(metadata)) query = query.where(jsonMetadataValue(this.#db, 'data', key), '=', value);
    if (page.after !== undefined) query = query.where('id', page.order === 'asc' ? '>' : '<', page.after);
    if (page.before !== undefined) query = query.where('id', page.order === 'asc' ? '<' : '>', page.before);
    const rows = await query.orderBy('id', scanOrder).limit(page.limit + 1).execute();
    const hasMore = rows.length > page.limit;
    const data = rows.slice(0, page.limit).map((row) => JSON.parse(row.data as string) as T);
    if (reverse) data.reverse();
    return { data, hasMore };
  }
}
