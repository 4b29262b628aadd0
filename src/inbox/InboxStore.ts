import { Pool } from 'pg';
import { canonicalTimestamp } from '../events/timestamps';
import { eventKey, PaymentEvent } from '../events/upvestEvents';
import { BatchEvent, ClassifiedBatch } from '../ingest/classifyBatch';
import { ReceivedEvent } from '../projection/ProjectionStore';
import { eventJobId, JobEvent } from '../queue/jobs';
import { QuarantinedContent, quarantineRecords, quarantineRecordsSelect, quarantineSql, setAsideSql } from '../quarantine/QuarantineStore';

/** A classified delivery: its content, when it arrived and in which request. */
export interface Delivery {
  batch: ClassifiedBatch;
  requestId: string;
  receivedAt: Date;
}

export interface ReceivedBatch {
  /** Keys (eventKey) of the batch's events this call added to the inbox; the others were there before. */
  added: Set<string>;
  /** Content hashes of the quarantine rows this call added; content quarantined before is not added again. */
  quarantined: Set<string>;
}

/** An event's row in the inbox, as an operator sees it. */
export interface InboxEntry {
  state: 'received' | 'projected' | 'failed';
  attempts: number;
  lastError: string | null;
  event: unknown;
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
 * webhook_events as the durable inbox: a delivery's new events are committed here before it is
 * answered 200, and the rows are the record from which the projection works; the queue only
 * carries work. The event id is the primary key, so INSERT … ON CONFLICT DO NOTHING tells
 * exactly which events are new, with no time limit.
 */
export class InboxStore {
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

  /** Names on each event's row the job of that event alone. */
  async assignOwnJobs(eventIds: string[]): Promise<void> {
    await this.pool.query(
      `UPDATE webhook_events AS e SET job_id = x.job_id FROM unnest($1::uuid[], $2::text[]) AS x(id, job_id)
       WHERE e.id = x.id AND e.processed_at IS NULL`,
      [eventIds, eventIds.map(eventJobId)],
    );
  }

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

// Any fixed number, distinct from the migration lock (72707369).
const SWEEPER_LOCK_ID = 851_306_427;

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
