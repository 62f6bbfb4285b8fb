import type { Kysely } from 'kysely';
import type { RunRef } from './store.js';
import type { Database } from './schema.js';

/**
 * Leases on runs, kept in the runs table: a worker executes a run only while it holds the run's
 * lease, renews it by heartbeat, and another worker may claim it once it lapses.
 */
export class RunLeases {
  constructor(
    readonly db: Kysely<Database>,
    readonly owner: string,
    readonly durationMs: number,
  ) {}

  /**
   * Takes the run's lease if it is free or lapsed, in one statement (of two workers claiming at
   * once, one wins). Returns how many times executions of the run were taken over, counting this
   * claim if it takes over a lapsed lease; undefined while a live lease holds the run.
   */
  async claim({ projectId, runId }: RunRef): Promise<number | undefined> {
    const now = Date.now();
    const row = await this.db
      .updateTable('runs')
      .set((eb) => ({
        lease_owner: this.owner,
        lease_expires_at: now + this.durationMs,
        // A lease is released when its execution ends; one still standing was cut off midway.
        lease_takeovers: eb('lease_takeovers', '+', eb.case().when('lease_owner', 'is not', null).then(1).else(0).end()),
      }))
      .where('project_id', '=', projectId)
      .where('id', '=', runId)
      .where((eb) => eb.or([eb('lease_owner', 'is', null), eb('lease_expires_at', '<', now)]))
      .returning('lease_takeovers')
      .executeTakeFirst();
    return row?.lease_takeovers;
  }

  /** Extends the lease; false when this worker no longer holds it. */
  async renew({ projectId, runId }: RunRef): Promise<boolean> {
    const result = await this.db
      .updateTable('runs')
      .set({ lease_expires_at: Date.now() + this.durationMs })
      .where('project_id', '=', projectId)
      .where('id', '=', runId)
      .where('lease_owner', '=', this.owner)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  async release({ projectId, runId }: RunRef): Promise<void> {
    await this.db
      .updateTable('runs')
      .set({ lease_owner: null, lease_expires_at: null })
      .where('project_id', '=', projectId)
      .where('id', '=', runId)
      .where('lease_owner', '=', this.owner)
      .execute();
  }

  /** Ends this worker's lease at once, so that another worker takes the run over without waiting. */
  async relinquish({ projectId, runId }: RunRef): Promise<void> {
    await this.db
      .updateTable('runs')
      .set({ lease_expires_at: 0 })
      .where('project_id', '=', projectId)
      .where('id', '=', runId)
      .where('lease_owner', '=', this.owner)
      .execute();
  }

  /** Whether some worker holds a live lease on the run. */
  async isHeld(runId: string): Promise<boolean> {
    const row = await this.db
      .selectFrom('runs')
      .select('id')
      .where('id', '=', runId)
      .where('lease_expires_at', '>=', Date.now())
      .executeTakeFirst();
    return row !== undefined;
  }

  /**
   * Active runs no worker is executing: leases that lapsed, and queued runs without a lease that
   * were created before `queuedSinceSeconds` (their job may have been lost with the process that made it).
   */
  async orphans(queuedSinceSeconds: number): Promise<RunRef[]> {
    const now = Date.now();
    const rows = await this.db
      .selectFrom('runs')
      .select(['project_id', 'id'])
      .where('status', 'in', ['queued', 'in_progress', 'cancelling'])
      .where((eb) =>
        eb.or([
          eb('lease_expires_at', '<', now),
          eb.and([eb('lease_owner', 'is', null), eb('status', '=', 'queued'), eb('created_at', '<', queuedSinceSeconds)]),
        ]),
      )
      .orderBy('id')
      .execute();
    return rows.map((row) => ({ projectId: row.project_id, runId: row.id }));
  }
}
