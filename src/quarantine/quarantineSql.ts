import { QuarantineItem } from './QuarantineItem';

/*
 * The SQL that writes quarantined_payloads, apart from the store: the inbox runs it inside the
 * statements that receive a delivery, on the pool, and so does without Prisma, which the store
 * uses and which an api process that only receives deliveries never loads.
 */

/** Quarantined content with when and in which request it arrived. */
export type QuarantinedContent = QuarantineItem & { receivedAt: Date; requestId: string };

/** The columns a SELECT handed to the builders below produces, in this order. */
const QUARANTINE_COLUMNS = 'reason, event_id, event_type, content, content_sha256, request_id, received_at';

/**
 * SQL that quarantines the rows `select` produces, once per distinct content: content quarantined
 * before is not added again. Returns the content_sha256 of the rows it added. One home for every
 * statement that quarantines, so that they can run inside the statements that receive a delivery.
 */
export function quarantineSql(select: string): string {
  return `INSERT INTO quarantined_payloads (${QUARANTINE_COLUMNS}) ${select}
    ON CONFLICT (content_sha256) DO NOTHING RETURNING content_sha256`;
}

/** The two halves of setAsideSql, for the store, which puts a VALUES list between them. */
export const SET_ASIDE_INSERT = `INSERT INTO quarantined_payloads (${QUARANTINE_COLUMNS})`;
export const SET_ASIDE_CONFLICT = `ON CONFLICT (content_sha256) DO UPDATE
      SET reason = excluded.reason, quarantined_at = now(), reprocessed_at = NULL, reprocess_outcome = NULL
    RETURNING id`;

/**
 * SQL that saves the rows `select` produces as content an operator set aside: content seen before
 * becomes pending again (a new reason, no reprocess outcome), even if it was reprocessed once.
 * Returns the id.
 */
export function setAsideSql(select: string): string {
  return `${SET_ASIDE_INSERT} ${select}
    ${SET_ASIDE_CONFLICT}`;
}

/** A SELECT of quarantine rows, for quarantineSql, from the JSON parameter `records` (quarantineRecords). */
export function quarantineRecordsSelect(records: string): string {
  return `SELECT q.reason, q.event_id, q.event_type, decode(q.content, 'base64'), q.content_sha256, q.request_id, q.received_at
    FROM json_to_recordset(${records}::json)
      AS q(reason text, event_id text, event_type text, content text, content_sha256 text, request_id text, received_at timestamptz)`;
}

/** The JSON parameter of quarantineRecordsSelect. */
export function quarantineRecords(items: QuarantinedContent[]): string {
  return JSON.stringify(
    items.map((item) => ({
      reason: item.reason,
      event_id: item.eventId ?? null,
      event_type: item.eventType ?? null,
      content: item.content.toString('base64'),
      content_sha256: item.contentSha256,
      request_id: item.requestId,
      received_at: item.receivedAt,
    })),
  );
}
