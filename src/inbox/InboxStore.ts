import { Pool } from 'pg';
import { canonicalTimestamp } from '../events/timestamps';
import { PaymentEvent } from '../events/upvestEvents';
import { ClassifiedBatch, QuarantineItem } from '../ingest/classifyBatch';
import { JobEvent } from '../queue/jobs';
import { quarantineRecords, quarantineRecordsSelect, quarantineSql, setAsideSql } from '../quarantine/QuarantineStore';

/** When and in which request content arrived, and the job that is to project its events. */
export interface InboxContext {
  requestId: string;
  receivedAt: Date;
  jobId: string;
}

export interface ReceivedBatch {
  /** Keys (eventKey) of the batch's events this call added to the inbox; the others were there before. */
  added: Set<string>;
  /** Content hashes of the quarantine rows this call added; content quarantined before is not added again. */
  quarantined: Set<string>;
}

/** An inbox event as the projection reads it: its JSON as received, parsed. */
export interface InboxEvent {
  event: PaymentEvent;
  receivedAt: string;
}

/** An event's row in the inbox, as an operator sees it. */
export interface InboxEntry {
  state: 'received' | 'projected' | 'failed';
  attempts: number;
  lastError: string | null;
  event: unknown;
}

/** Unprojected inbox events that wait longer than the sweeper's age, by the job their rows name. */
export interface PendingJob {
  jobId: string;
  events: number;
}

// One statement, so one transaction: the new events, each sliced out of the body exactly as
// received, and the batch's quarantined content are committed together or not at all. $1 holds
// one record per element of "payload" up to the last event to store, {} for the others, so that
// ROWS FROM can pair each record with its element.
const RECEIVE_SQL = `WITH incoming AS (
    SELECT x.id, x.type, x.webhook_id, x.created_at, x.event
    FROM ROWS FROM (
      json_to_recordset($1::json) AS (id uuid, type text, webhook_id uuid, created_at timestamptz),
      json_array_elements($2::json -> 'payload')
    ) AS x(id, type, webhook_id, created_at, event)
    WHERE x.id IS NOT NULL
  ),
  added AS (
    INSERT INTO webhook_events (id, type, webhook_id, created_at, received_at, event, request_id, job_id)
    SELECT id, type, webhook_id, created_at, $3, event, $4, $5 FROM incoming
    ON CONFLICT (id) DO NOTHING
    RETURNING id
  ),
  quarantined AS (${quarantineSql(quarantineRecordsSelect('$6', '$4', '$3'))})
SELECT (SELECT coalesce(json_agg(id), '[]') FROM added) AS added,
       (SELECT coalesce(json_agg(content_sha256), '[]') FROM quarantined) AS quarantined`;

const QUARANTINE_SQL = `WITH added AS (${quarantineSql(quarantineRecordsSelect('$1', '$2', '$3'))})
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

  /** Commits the batch's events that are new, and its quarantined content, in one transaction. */
  async receive(batch: ClassifiedBatch, context: InboxContext): Promise<ReceivedBatch> {
    if (batch.events.length === 0 && batch.quarantined.length === 0) return { added: new Set(), quarantined: new Set() };
    const { rows } = await this.pool.query<{ added: string[]; quarantined: string[] }>({
      name: 'inbox-receive',
      text: RECEIVE_SQL,
      values: [
        eventRecords(batch),
        batch.events.length > 0 ? batch.text : NO_EVENTS,
        context.receivedAt,
        context.requestId,
        context.jobId,
        quarantineRecords(batch.quarantined),
      ],
    });
    return { added: new Set(rows[0].added), quarantined: new Set(rows[0].quarantined) };
  }

  /** Quarantines content on its own statement; returns the content hashes it added. */
  async quarantine(items: QuarantineItem[], context: Omit<InboxContext, 'jobId'>): Promise<Set<string>> {
    if (items.length === 0) return new Set();
    const { rows } = await this.pool.query<{ quarantined: string[] }>({
      name: 'inbox-quarantine',
      text: QUARANTINE_SQL,
      values: [quarantineRecords(items), context.requestId, context.receivedAt],
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

  /** The events among `eventIds` that are not projected yet, parsed from the JSON as received. */
  async unprojected(eventIds: string[]): Promise<InboxEvent[]> {
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

  /** The jobs that the unprojected events received more than `olderThanSeconds` ago name, with how many each. */
  async pendingJobs(olderThanSeconds: number): Promise<PendingJob[]> {
    const { rows } = await this.pool.query<{ job_id: string; events: number }>(
      `SELECT coalesce(job_id, '') AS job_id, count(*)::int AS events FROM webhook_events
       WHERE processed_at IS NULL AND received_at < now() - make_interval(secs => $1)
       GROUP BY job_id`,
      [olderThanSeconds],
    );
    return rows.map((row) => ({ jobId: row.job_id, events: row.events }));
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

  /** Names on each row the job of its event alone (eventJobId: the lower-case id, as uuid::text prints it). */
  async assignOwnJobs(eventIds: string[]): Promise<void> {
    await this.pool.query('UPDATE webhook_events SET job_id = id::text WHERE id = ANY($1::uuid[]) AND processed_at IS NULL', [eventIds]);
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

/** The first parameter of RECEIVE_SQL: a record per payload element up to the last event. */
function eventRecords(batch: ClassifiedBatch): string {
  const last = batch.events.length === 0 ? -1 : batch.events[batch.events.length - 1].position;
  const records: object[] = new Array(last + 1).fill(NOT_STORED);
  for (const { event, position } of batch.events) {
    records[position] = { id: event.id, type: event.type, webhook_id: event.webhook_id, created_at: canonicalTimestamp(event.created_at) };
  }
  return JSON.stringify(records);
}
