import { Pool } from 'pg';
import { JobEvent } from '../queue/jobs';

// Any fixed number, distinct from the migration lock (72707369).
const SWEEPER_LOCK_ID = 851_306_427;

/** The inbox as the sweeper reads it: the unprojected events whose job may be gone, and the lock that makes one sweep run at a time. */
export class SweeperInbox {
  constructor(private readonly pool: Pool) {}

  /**
   * Runs `work` while this process holds the sweeper's lock, so that one sweep runs at a time
   * across all replicas; undefined, without running it, when another process holds it. The lock
   * belongs to a session, so it is released when the process dies.
   */
  async whileSweeping<T>(work: () => Promise<T>): Promise<T | undefined> {
    const client = await this.pool.connect();
    try {
      const { rows } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1) AS locked', [SWEEPER_LOCK_ID]);
      if (!rows[0].locked) return undefined;
      try {
        return await work();
      } finally {
        await client.query('SELECT pg_advisory_unlock($1)', [SWEEPER_LOCK_ID]);
      }
    } finally {
      client.release();
    }
  }

  /** The jobs that the rows of unprojected events received more than `olderThanSeconds` ago name. */
  async pendingJobIds(olderThanSeconds: number): Promise<string[]> {
    const { rows } = await this.pool.query<{ job_id: string }>(
      `SELECT DISTINCT coalesce(job_id, '') AS job_id FROM webhook_events
       WHERE processed_at IS NULL AND received_at < now() - make_interval(secs => $1)`,
      [olderThanSeconds],
    );
    return rows.map((row) => row.job_id);
  }

  /**
   * The unprojected events, received more than `olderThanSeconds` ago, whose rows name one of
   * `jobIds`: at most `limit`, in id order after the id `after`.
   */
  async pendingEvents(jobIds: string[], olderThanSeconds: number, after: string, limit: number): Promise<JobEvent[]> {
    const { rows } = await this.pool.query<JobEvent>(
      `SELECT id::text AS id, type FROM webhook_events
       WHERE processed_at IS NULL AND received_at < now() - make_interval(secs => $2) AND coalesce(job_id, '') = ANY($1::text[])
         AND id::text > $3
       ORDER BY id::text LIMIT $4`,
      [jobIds, olderThanSeconds, after, limit],
    );
    return rows;
  }

  /** Names `jobId` on the rows of these events, if they are still unprojected. */
  async assignJob(eventIds: string[], jobId: string): Promise<void> {
    await this.pool.query('UPDATE webhook_events SET job_id = $2 WHERE id = ANY($1::uuid[]) AND processed_at IS NULL', [eventIds, jobId]);
  }
}
