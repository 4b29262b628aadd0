import { Pool } from 'pg';

/** The quarantine as the metrics read it on every scrape of every process: on the pool, cheap enough for that. */
export class QuarantineBacklog {
  constructor(private readonly pool: Pool) {}

  /** Quarantined payloads an operator has not reprocessed yet. */
  async pendingCount(): Promise<number> {
    const { rows } = await this.pool.query<{ pending: number }>('SELECT count(*)::int AS pending FROM quarantined_payloads WHERE reprocessed_at IS NULL');
    return rows[0].pending;
  }
}
