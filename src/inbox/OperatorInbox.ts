import { Pool } from 'pg';
import { setAsideSql } from '../quarantine/quarantineSql';

/** An event's row in the inbox, as an operator sees it. */
export interface InboxEntry {
  state: 'received' | 'projected' | 'failed';
  attempts: number;
  lastError: string | null;
  event: unknown;
}

/** The inbox as an operator sees it: an event's state, and setting an event aside into quarantine. */
export class OperatorInbox {
  constructor(private readonly pool: Pool) {}

  /** An event's state in the inbox (as the view webhook_inbox shows it) with its content, or undefined. */
  async describe(eventId: string): Promise<InboxEntry | undefined> {
    const { rows } = await this.pool.query<{ state: InboxEntry['state']; attempts: number; last_error: string | null; event: string }>(
      `SELECT i.state, i.attempts, i.last_error, e.event::text AS event
       FROM webhook_inbox i JOIN webhook_events e USING (id) WHERE i.id = $1::uuid`,
      [eventId],
    );
    if (rows.length === 0) return undefined;
    const [row] = rows;
    return { state: row.state, attempts: row.attempts, lastError: row.last_error, event: JSON.parse(row.event) };
  }

  /**
   * Moves an unprojected event out of the inbox into quarantine, in one statement: for an event
   * whose job failed for good and that an operator sets aside. Without its row the event is new
   * again, so `quarantine reprocess` receives it like a fresh delivery. Undefined when the inbox
   * has no unprojected event with this id.
   */
  async setAside(eventId: string, reason: string): Promise<bigint | undefined> {
    const { rows } = await this.pool.query<{ id: string }>(
      `WITH removed AS (DELETE FROM webhook_events WHERE id = $1::uuid AND processed_at IS NULL RETURNING type, event, request_id, received_at),
         saved AS (${setAsideSql(`SELECT $2, event->>'id', type, convert_to(event::text, 'UTF8'), encode(sha256(convert_to(event::text, 'UTF8')), 'hex'),
           coalesce(request_id, ''), received_at FROM removed`)})
       SELECT id::text AS id FROM saved`,
      [eventId, reason],
    );
    return rows.length === 0 ? undefined : BigInt(rows[0].id);
  }
}
