import { Pool } from 'pg';
import { ReceivedEvent } from '../events/receivedEvent';
import { PaymentEvent } from '../events/upvestEvents';
import { eventJobId } from '../queue/jobs';

/** The inbox as the projection worker uses it: it reads the events its jobs name, and records their failures. */
export class WorkerInbox {
  constructor(private readonly pool: Pool) {}

  /** The events among `eventIds` that are not projected yet, parsed from the JSON as received, for the projection. */
  async unprojected(eventIds: string[]): Promise<ReceivedEvent[]> {
    const { rows } = await this.pool.query<{ event: string; received_at: Date }>({
      name: 'inbox-unprojected',
      text: 'SELECT event::text AS event, received_at FROM webhook_events WHERE id = ANY($1::uuid[]) AND processed_at IS NULL',
      values: [eventIds],
    });
    // Validated when they were received; only the ingest writes webhook events here.
    return rows.map((row) => ({ event: JSON.parse(row.event) as PaymentEvent, receivedAt: row.received_at.toISOString() }));
  }

  /**
   * Records a failed projection attempt of unprojected events, and whether it was their last
   * (their job is then in the failed set). Best effort: the failure may be Postgres itself.
   */
  async recordFailure(eventIds: string[], error: string, failedForGood: boolean): Promise<void> {
    await this.pool.query({
      name: 'inbox-record-failure',
      text: `UPDATE webhook_events SET attempts = attempts + 1, last_error = $2, failed_at = CASE WHEN $3 THEN now() ELSE failed_at END
        WHERE id = ANY($1::uuid[]) AND processed_at IS NULL`,
      values: [eventIds, error, failedForGood],
    });
  }

  /** Names on each event's row the job of that event alone. */
  async assignOwnJobs(eventIds: string[]): Promise<void> {
    await this.pool.query(
      `UPDATE webhook_events AS e SET job_id = x.job_id FROM unnest($1::uuid[], $2::text[]) AS x(id, job_id)
       WHERE e.id = x.id AND e.processed_at IS NULL`,
      [eventIds, eventIds.map(eventJobId)],
    );
  }
}
