import { Pool } from 'pg';

/** Where an enabled subscription stands, for the gauges. */
export interface SubscriptionBacklog {
  id: string;
  failing: boolean;
  /** From the commit of its oldest undelivered change; 0 when none is. */
  oldest_undelivered_seconds: number;
}

/** Reads the subscriptions' backlogs at scrape time. */
export class PushBacklog {
  constructor(private readonly pool: Pool) {}

  async subscriptionBacklogs(): Promise<SubscriptionBacklog[]> {
    const { rows } = await this.pool.query<SubscriptionBacklog>(
      `SELECT s.id, s.state = 'failing' AS failing,
         coalesce(extract(epoch FROM now() - oldest.recorded_at), 0)::float8 AS oldest_undelivered_seconds
       FROM push_subscriptions s
       LEFT JOIN LATERAL (
         SELECT d.recorded_at FROM push_deliveries d
         WHERE d.subscription_id = s.id AND d.delivered_at IS NULL
         ORDER BY d.transaction_id, d.history_id
         LIMIT 1
       ) AS oldest ON true
       WHERE s.state <> 'disabled'`,
    );
    return rows;
  }
}
