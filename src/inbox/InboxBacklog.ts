import { Pool } from 'pg';

/** The inbox as the metrics read it on every scrape of every process: each read cheap enough for that. */
export class InboxBacklog {
  constructor(private readonly pool: Pool) {}

  /** Age of the oldest inbox event not projected yet, from its receipt; 0 when there is none. */
  async oldestUnprojectedSeconds(): Promise<number> {
    // min(received_at) is the first entry of webhook_events_unprojected_idx, which holds only the unprojected rows.
    const { rows } = await this.pool.query<{ seconds: number | null }>(
      'SELECT extract(epoch FROM now() - min(received_at))::float8 AS seconds FROM webhook_events WHERE processed_at IS NULL',
    );
    return Math.max(0, rows[0].seconds ?? 0);
  }
}
