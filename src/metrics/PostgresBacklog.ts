import { Pool } from 'pg';
import type { BacklogSource } from './Metrics';

/** The backlog gauges' reads: each one cheap enough for every scrape of every process. */
export class PostgresBacklog implements BacklogSource {
  constructor(private readonly pool: Pool) {}

  async quarantinePending(): Promise<number> {
    const { rows } = await this.pool.query<{ pending: string }>('SELECT count(*) AS pending FROM quarantined_payloads WHERE reprocessed_at IS NULL');
    return Number(rows[0].pending);
  }

  async oldestUnprojectedSeconds(): Promise<number> {
    // min(received_at) is the first entry of webhook_events_unprojected_idx, which holds only the unprojected rows.
    const { rows } = await this.pool.query<{ seconds: number | null }>(
      'SELECT extract(epoch FROM now() - min(received_at))::float8 AS seconds FROM webhook_events WHERE processed_at IS NULL',
    );
    return Math.max(0, rows[0].seconds ?? 0);
  }
}
