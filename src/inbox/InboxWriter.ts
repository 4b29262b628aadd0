import { Pool } from 'pg';
import { canonicalTimestamp } from '../events/timestamps';
import { eventKey } from '../events/upvestEvents';
import { QuarantinedContent, quarantineRecords, quarantineRecordsSelect, quarantineSql } from '../quarantine/quarantineSql';
import { BatchEvent, Delivery } from './delivery';

export interface ReceivedBatch {
  /** Keys (eventKey) of the batch's events this call added to the inbox; the others were there before. */
  added: Set<string>;
  /** Content hashes of the quarantine rows this call added; content quarantined before is not added again. */
  quarantined: Set<string>;
}

/**
 * One statement, so one transaction, for several deliveries: their new events, each sliced out of
 * its body exactly as received, and their quarantined content are committed together or not at
 * all. Per delivery, four parameters: one record per element of "payload" up to the last event to
 * store ({} for the others, so that ROWS FROM pairs each record with its element), the body, the
 * request id and the time received. Then the job id and the quarantine records.
 */
function receiveSql(deliveries: number): string {
  const incoming = Array.from({ length: deliveries }, (_, index) => {
    const [records, body, requestId, receivedAt] = [1, 2, 3, 4].map((offset) => `$${index * 4 + offset}`);
    return `SELECT x.id, x.type, x.webhook_id, x.created_at, x.event, ${requestId}::text AS request_id, ${receivedAt}::timestamptz AS received_at
    FROM ROWS FROM (
      json_to_recordset(${records}::json) AS (id uuid, type text, webhook_id uuid, created_at timestamptz),
      json_array_elements(${body}::json -> 'payload')
    ) AS x(id, type, webhook_id, created_at, event)
    WHERE x.id IS NOT NULL`;
  });
  const [jobId, quarantine] = [deliveries * 4 + 1, deliveries * 4 + 2].map((number) => `$${number}`);
  return `WITH incoming AS (
    ${incoming.join('\n    UNION ALL\n    ')}
  ),
  added AS (
    INSERT INTO webhook_events (id, type, webhook_id, created_at, received_at, event, request_id, job_id)
    SELECT id, type, webhook_id, created_at, received_at, event, request_id, ${jobId} FROM incoming
    ON CONFLICT (id) DO NOTHING
    RETURNING id
  ),
  quarantined AS (${quarantineSql(quarantineRecordsSelect(quarantine))})
SELECT (SELECT coalesce(json_agg(id), '[]') FROM added) AS added,
       (SELECT coalesce(json_agg(content_sha256), '[]') FROM quarantined) AS quarantined`;
}

const RECEIVE_SQL: string[] = [];

const QUARANTINE_SQL = `WITH added AS (${quarantineSql(quarantineRecordsSelect('$1'))})
SELECT coalesce(json_agg(content_sha256), '[]') AS quarantined FROM added`;

// What an empty batch text stands for when only quarantined content is stored.
const NO_EVENTS = '{"payload":[]}';

/**
 * The inbox as the ingest writes it: a delivery's new events are committed to webhook_events
 * before it is answered 200, and the rows are the record from which the projection works; the
 * queue only carries work. The event id is the primary key, so INSERT … ON CONFLICT DO NOTHING
 * tells exactly which events are new, with no time limit.
 */
export class InboxWriter {
  constructor(private readonly pool: Pool) {}

  /**
   * Commits the deliveries' events that are new, and their quarantined content, in one
   * transaction; rows name `jobId` as the job that is to project them. Answers per delivery.
   */
  async receive(deliveries: Delivery[], jobId: string): Promise<ReceivedBatch[]> {
    // An event id in several deliveries is offered by the first only, so that who added it is certain.
    const offered = new Set<string>();
    const stored = deliveries.map(({ batch }) =>
      batch.events.filter(({ event }) => {
        const key = eventKey(event.id);
        if (offered.has(key)) return false;
        offered.add(key);
        return true;
      }),
    );
    if (offered.size === 0 && deliveries.every(({ batch }) => batch.quarantined.length === 0)) {
      return deliveries.map(() => ({ added: new Set(), quarantined: new Set() }));
    }
    const values = deliveries.flatMap(({ batch, requestId, receivedAt }, index) => [
      eventRecords(stored[index]),
      stored[index].length > 0 ? batch.text : NO_EVENTS,
      requestId,
      receivedAt,
    ]);
    values.push(jobId, quarantineRecords(deliveries.flatMap(({ batch, requestId, receivedAt }) => batch.quarantined.map((item) => ({ ...item, requestId, receivedAt })))));
    RECEIVE_SQL[deliveries.length] ??= receiveSql(deliveries.length);
    const { rows } = await this.pool.query<{ added: string[]; quarantined: string[] }>({
      name: `inbox-receive-${deliveries.length}`,
      text: RECEIVE_SQL[deliveries.length],
      values,
    });
    const added = new Set(rows[0].added);
    const quarantined = new Set(rows[0].quarantined);
    return deliveries.map(({ batch }, index) => ({
      added: new Set(stored[index].map(({ event }) => eventKey(event.id)).filter((key) => added.has(key))),
      quarantined: new Set(batch.quarantined.map((item) => item.contentSha256).filter((hash) => quarantined.has(hash))),
    }));
  }

  /** Quarantines content on its own statement; returns the content hashes it added. */
  async quarantine(items: QuarantinedContent[]): Promise<Set<string>> {
    if (items.length === 0) return new Set();
    const { rows } = await this.pool.query<{ quarantined: string[] }>({
      name: 'inbox-quarantine',
      text: QUARANTINE_SQL,
      values: [quarantineRecords(items)],
    });
    return new Set(rows[0].quarantined);
  }

  /** The stored JSON text of these events, by eventKey; ids not in the inbox are left out. */
  async storedEvents(eventIds: string[]): Promise<Map<string, string>> {
    const { rows } = await this.pool.query<{ id: string; event: string }>({
      name: 'inbox-stored-events',
      text: 'SELECT id::text AS id, event::text AS event FROM webhook_events WHERE id = ANY($1::uuid[])',
      values: [eventIds],
    });
    return new Map(rows.map((row) => [row.id, row.event]));
  }
}

const NOT_STORED = {};

/** A delivery's records for receiveSql: one per payload element up to the last event to store. */
function eventRecords(events: BatchEvent[]): string {
  const last = events.length === 0 ? -1 : events[events.length - 1].position;
  const records: object[] = new Array(last + 1).fill(NOT_STORED);
  for (const { event, position } of events) {
    records[position] = { id: event.id, type: event.type, webhook_id: event.webhook_id, created_at: canonicalTimestamp(event.created_at) };
  }
  return JSON.stringify(records);
}
