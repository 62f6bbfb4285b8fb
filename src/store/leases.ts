import { type AliasedRawBuilder, type ExpressionBuilder, type Kysely, type RawBuilder, sql } from 'kysely';
import { nameStatement } from './named-statements.js';

/** The tables whose rows carry leases: runs, and vector store files being indexed. */
export type LeasedTable = 'runs' | 'vector_store_files';

/** The columns that pick out one row, e.g. `{ project_id, id }`. */
export type RowMatch = Record<string, string>;

/** What a claim reads of the row it leases: a column, or an expression over the row (a subquery). */
export type ClaimedColumn = string | AliasedRawBuilder<unknown, string>;

/** How often the execution of one job may be cut off (its worker died) before it is given up. */
export const MAX_TAKEOVERS = 3;

/**
 * Leases on background jobs, kept on the job's own row (`lease_owner`, `lease_expires_at`,
 * `lease_takeovers`): a worker executes a job only while it holds its lease, renews it by
 * heartbeat, and another worker may claim it once it lapses.
 */
export class Leases {
  // Kysely cannot type a query over a table chosen at run time; the loose typing stays in this class.
  readonly #db: Kysely<any>;

  constructor(
    db: Kysely<any>,
    readonly table: LeasedTable,
    readonly owner: string,
    readonly durationMs: number,
  ) {
    this.#db = db;
  }

  #update(row: RowMatch) {
    let query = this.#db.updateTable(this.table);
    for (const [column, value] of Object.entries(row)) query = query.where(column, '=', value);
    return query;
  }

  /** Rows no live lease holds: never leased, released, or lapsed by `now`. */
  #unleased(now: number) {
    return (eb: ExpressionBuilder<any, any>) => eb.or([eb('lease_owner', 'is', null), eb('lease_expires_at', '<', now)]);
  }

  /** Ends `owner`'s lease on the row, if `owner` holds it. */
  #ending(row: RowMatch, owner: string) {
    return this.#update(row).set({ lease_owner: null, lease_expires_at: null }).where('lease_owner', '=', owner);
  }

  /**
   * Takes the lease if it is free or lapsed, in one statement (of two workers claiming at once,
   * one wins), and reads the row's `columns` in it. Returns them with `lease_takeovers`, how many
   * times executions of the job were taken over, counting this claim if it takes over a lapsed
   * lease; undefined while a live lease holds the job.
   */
  async claim<Row extends Record<string, unknown> = Record<string, never>>(row: RowMatch, columns: readonly ClaimedColumn[] = []): Promise<(Row & { lease_takeovers: number }) | undefined> {
    const now = Date.now();
    const claimed = await this.#claiming(this.#update(row), now)
      .where(this.#unleased(now))
      .returning(['lease_takeovers', ...columns])
      .executeTakeFirst();
    return claimed as (Row & { lease_takeovers: number }) | undefined;
  }

  /**
   * Claims up to `limit` rows in `statuses` whose lease is free or lapsed, oldest first, as
   * `claim` claims one (PostgreSQL only). Rows another worker is claiming at the same moment are
   * skipped rather than waited for, so workers claiming at once each get different rows. `alsoSet`:
   * more columns the claim writes, as expressions over the row before it.
   */
  async claimNext<Row extends Record<string, unknown>>(
    statuses: readonly string[],
    limit: number,
    columns: readonly ClaimedColumn[],
    alsoSet: Record<string, RawBuilder<unknown>> = {},
  ): Promise<(Row & { lease_takeovers: number })[]> {
    const now = Date.now();
    // Materialized, so that the rows are chosen and locked once: a subquery the plan may run again
    // could lock more than `limit`.
    const query = this.#db.with(
      (name) => name('free').materialized(),
      (db) =>
        db
          .selectFrom(this.table)
          .select('id')
          // As literals, so that the plan of the named statement, made for any parameters, still
          // finds the few executing rows by the status index instead of scanning every run.
          .where('status', 'in', statuses.map((status) => sql.lit(status)))
          .where(this.#unleased(now))
          .orderBy('id')
          .limit(limit)
          .forUpdate()
          .skipLocked(),
    );
    // By the primary key, however large the table: a join with the CTE was planned as a scan of all runs.
    const chosen = sql<boolean>`${sql.ref(`${this.table}.id`)} = ANY(ARRAY(SELECT id FROM free))`;
    const claim = this.#claiming(query.updateTable(this.table).set(alsoSet).where(chosen), now)
      .returning(['lease_takeovers', ...columns])
      .compile();
    // Workers claim often, and the text differs only with the statuses and columns asked for.
    nameStatement(claim);
    const { rows } = await this.#db.executeQuery<Row & { lease_takeovers: number }>(claim);
    return rows;
  }

  /** `update` with the lease taken by this worker; typed loosely, as every query here is. */
  #claiming(update: any, now: number): any {
    return update.set((eb: any) => ({
      lease_owner: this.owner,
      lease_expires_at: now + this.durationMs,
      // A lease is released when its execution ends; one still standing was cut off midway.
      lease_takeovers: eb('lease_takeovers', '+', eb.case().when('lease_owner', 'is not', null).then(1).else(0).end()),
    }));
  }

  /**
   * Who holds a new row while the process that created it prepares it (`holding`): never this
   * process's own worker lease, so that ending the hold cannot end a claim of the same process.
   */
  get holder(): string {
    return `hold:${this.owner}`;
  }

  /** The columns that hold a new row for its creator (an API process) until it ends the hold. */
  holding(): { lease_owner: string; lease_expires_at: number } {
    return { lease_owner: this.holder, lease_expires_at: Date.now() + this.durationMs };
  }

  /** The statement that ends this process's hold on the row, if it holds it, for a statement that does more. */
  endingHold(row: RowMatch) {
    return this.#ending(row, this.holder).returning('id');
  }

  /** Extends the lease; false when this worker no longer holds it. */
  async renew(row: RowMatch): Promise<boolean> {
    const result = await this.#update(row).set({ lease_expires_at: Date.now() + this.durationMs }).where('lease_owner', '=', this.owner).executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  async release(row: RowMatch): Promise<void> {
    await this.#ending(row, this.owner).execute();
  }

  /** Ends this worker's lease at once, so that another worker takes the job over without waiting. */
  async relinquish(row: RowMatch): Promise<void> {
    await this.#update(row).set({ lease_expires_at: 0 }).where('lease_owner', '=', this.owner).execute();
  }

  /** Whether some worker holds a live lease on the row. */
  async isHeld(row: RowMatch): Promise<boolean> {
    let query = this.#db.selectFrom(this.table).select('id').where('lease_expires_at', '>=', Date.now());
    for (const [column, value] of Object.entries(row)) query = query.where(column, '=', value);
    return (await query.executeTakeFirst()) !== undefined;
  }

  /**
   * Unfinished jobs no worker is executing, as their `columns`: those in `statuses` whose lease
   * lapsed, and those in `unclaimedStatus` that no worker ever claimed, created before
   * `unclaimedSinceSeconds` (their job may have been lost with the process that queued it).
   */
  async orphans(columns: string[], statuses: string[], unclaimedStatus: string, unclaimedSinceSeconds: number): Promise<RowMatch[]> {
    const now = Date.now();
    return this.#db
      .selectFrom(this.table)
      .select(columns)
      .where('status', 'in', statuses)
      .where((eb) =>
        eb.or([
          eb('lease_expires_at', '<', now),
          eb.and([eb('lease_owner', 'is', null), eb('status', '=', unclaimedStatus), eb('created_at', '<', unclaimedSinceSeconds)]),
        ]),
      )
      .orderBy('id')
      .execute();
  }
}
