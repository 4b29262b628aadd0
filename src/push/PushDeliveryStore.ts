import { Pool } from 'pg';
import { canonicalTimestampSql as utc } from '../events/timestamps';
import { jsonObjectOf, PAYMENT_RESOURCES } from '../changes/paymentResources';

/** A change claimed for one attempt to send it to a subscription. */
export interface ClaimedDelivery {
  history_id: string;
  /** The change's event id: its `webhook-id`, the same on every attempt, so that the subscriber deduplicates. */
  event_id: string;
  payment_id: string;
  /** Including this one. */
  attempts: number;
  /** Epoch milliseconds of the first attempt: the subscription is failing once it is PUSH_FAILING_AFTER_HOURS old. */
  first_attempt_ms: number;
  /** Epoch milliseconds of when the change was recorded: a delivery's lag is measured from it. */
  recorded_ms: number;
  /** The message, built by Postgres. */
  body: string;
  /** The secrets that sign now: the current one, and the previous one during a rotation's overlap. */
  secrets: string[];
}

/** How one attempt ended. */
export interface DeliveryOutcome {
  history_id: string;
  delivered: boolean;
  response_code: number | null;
  error: string | null;
  /** After a failure: when to try again. */
  retry_in_ms: number;
}

// The payment's current row, as the read API answers it.
const PAYMENT_ROW = `CASE d.payment_kind ${PAYMENT_RESOURCES.map(
  (resource) => `WHEN '${resource.kind}' THEN (SELECT ${jsonObjectOf(resource.fields)} FROM ${resource.table} p WHERE p.id = d.payment_id)`,
).join(' ')} END`;

// The change as the change feed returns it, and the payment's row.
const MESSAGE = `json_build_object('type', 'payment.status_changed', 'timestamp', ${utc('h.recorded_at')}, 'data', json_build_object(
  'payment_kind', h.payment_kind, 'payment_id', h.payment_id, 'previous_status', h.previous_status, 'status', h.status,
  'event_id', h.event_id, 'event_type', h.event_type, 'event_created_at', ${utc('h.event_created_at')}, 'source', h.source,
  'recorded_at', ${utc('h.recorded_at')}, 'payment', ${PAYMENT_ROW}))::text`;

/** SQL: the delivery row `row` is being sent: claimed, its lease not over, its outcome not recorded yet. */
export const inFlight = (row: string) => `${row}.in_flight AND ${row}.next_attempt_at > now()`;

// A change waiting behind an earlier undelivered change of its payment is parked: made due this
// much later, so that a claim does not look at it again and again while a subscriber is down with
// a large backlog. The delivery of the change before it makes it due at once (RECORD_SQL); this
// is only the bound for a delivery recorded after its lease ended, by a statement that did not
// see the change (dispatched meanwhile).
const PARKED_RECHECK_MS = 5 * 60_000;

// How many due changes one claim looks at, the oldest due first: each costs an index probe for an
// earlier undelivered change of its payment.
const DUE_SCAN_LIMIT = 2000;

// The due changes of one subscription that are each the oldest undelivered change of their
// payment (so a payment's changes go one after the other, in the feed's order), that no other
// worker holds (SKIP LOCKED). Claiming counts the attempt and leases the change until the
// attempt's time is up: if the worker dies, another takes it once the lease ends.
// The due changes that wait behind an earlier one are parked, unless:
// - the first undelivered change of their payment is in flight: its delivery may be being recorded
//   now, by a statement that cannot see this change if it was dispatched meanwhile, and so would
//   not make it due;
// - the delivery of the earlier one changed it since it was read (its row version, xmin, differs);
// - another statement holds it: claims never wait for a lock; the next claim parks it.
// Each step looks its rows up by key from the one before (LATERAL); the dispatcher keeps the
// table's statistics fresh enough for the planner to take the right index (PushDispatchStore).
const CLAIM_SQL = `
WITH due AS MATERIALIZED (
  SELECT d.history_id, d.transaction_id, d.xmin AS version,
         (head.transaction_id, head.history_id) < (d.transaction_id, d.history_id) AS blocked, head.in_flight
  FROM push_deliveries d
  CROSS JOIN LATERAL (
    SELECT e.transaction_id, e.history_id, ${inFlight('e')} AS in_flight
    FROM push_deliveries e
    WHERE e.subscription_id = $1 AND e.payment_id = d.payment_id AND e.delivered_at IS NULL
    ORDER BY e.transaction_id, e.history_id
    LIMIT 1
  ) AS head
  WHERE d.subscription_id = $1 AND d.delivered_at IS NULL AND d.next_attempt_at <= now()
  ORDER BY d.next_attempt_at
  LIMIT ${DUE_SCAN_LIMIT}
),
parkable AS (
  SELECT row.history_id
  FROM due
  CROSS JOIN LATERAL (
    SELECT d.history_id FROM push_deliveries d
    WHERE d.subscription_id = $1 AND d.history_id = due.history_id AND d.xmin = due.version
    FOR UPDATE SKIP LOCKED
  ) AS row
  WHERE due.blocked AND NOT due.in_flight
),
parked AS (
  UPDATE push_deliveries d
  SET next_attempt_at = now() + ${PARKED_RECHECK_MS} * interval '1 millisecond'
  FROM parkable p
  WHERE d.subscription_id = $1 AND d.history_id = p.history_id
  RETURNING d.history_id
),
-- In the feed's order; the first $2 that no other statement holds.
claimable AS (
  SELECT row.history_id
  FROM (SELECT history_id, transaction_id FROM due WHERE NOT blocked ORDER BY transaction_id, history_id) AS next
  CROSS JOIN LATERAL (
    SELECT d.history_id FROM push_deliveries d
    WHERE d.subscription_id = $1 AND d.history_id = next.history_id AND d.delivered_at IS NULL AND d.next_attempt_at <= now()
    FOR UPDATE SKIP LOCKED
  ) AS row
  LIMIT $2
),
claimed AS (
  UPDATE push_deliveries d
  SET attempts = d.attempts + 1, first_attempt_at = coalesce(d.first_attempt_at, now()), last_attempt_at = now(),
      next_attempt_at = now() + $3 * interval '1 millisecond', in_flight = true
  FROM claimable c
  WHERE d.subscription_id = $1 AND d.history_id = c.history_id
  RETURNING d.*
),
signing AS (
  SELECT CASE WHEN s.previous_secret_expires_at > now() THEN s.secrets ELSE s.secrets[1:1] END AS secrets
  FROM push_subscriptions s WHERE s.id = $1
),
message AS (
  SELECT d.history_id::text AS history_id, h.event_id, d.payment_id, d.attempts,
         (extract(epoch FROM d.first_attempt_at) * 1000)::float8 AS first_attempt_ms,
         (extract(epoch FROM d.recorded_at) * 1000)::float8 AS recorded_ms,
         ${MESSAGE} AS body, signing.secrets, d.transaction_id AS feed_transaction, d.history_id AS feed_id
  FROM claimed d JOIN payment_status_history h ON h.id = d.history_id CROSS JOIN signing
)
-- One row at least, to tell how many were parked.
SELECT (SELECT count(*) FROM parked)::int AS parked, m.history_id, m.event_id, m.payment_id, m.attempts, m.first_attempt_ms,
       m.recorded_ms, m.body, m.secrets
FROM (SELECT) AS answer LEFT JOIN message m ON true
ORDER BY m.feed_transaction, m.feed_id`;

// The attempts' outcomes; then the position moves up to just before the oldest change still
// undelivered (or to the dispatch cursor if none is), read from one snapshot: only a 2xx moves it.
// The subscription is marked failing ($7) when a change has failed for PUSH_FAILING_AFTER_HOURS,
// and active again once no change has ($8 hours).
const RECORD_SQL = `
WITH outcome AS (
  SELECT * FROM unnest($2::bigint[], $3::boolean[], $4::int[], $5::text[], $6::int[])
    AS o(history_id, delivered, response_code, error, retry_in_ms)
),
delivered_now AS (SELECT ARRAY(SELECT o.history_id FROM outcome o WHERE o.delivered) AS ids),
recorded AS (
  UPDATE push_deliveries d
  SET delivered_at = CASE WHEN o.delivered THEN now() END, in_flight = false,
      next_attempt_at = CASE WHEN o.delivered THEN d.next_attempt_at ELSE now() + o.retry_in_ms * interval '1 millisecond' END,
      last_response_code = o.response_code, last_error = o.error
  FROM outcome o
  WHERE d.subscription_id = $1 AND d.history_id = o.history_id AND d.delivered_at IS NULL
),
-- The change after each delivered one of the same payment is due at once, parked or not; updated
-- either way, so that a claim that read it before cannot park it now (its xmin changes).
next_of_payment AS (
  SELECT n.history_id
  FROM (SELECT DISTINCT d.payment_id FROM push_deliveries d
        WHERE d.subscription_id = $1 AND d.history_id = ANY ((SELECT ids FROM delivered_now)::bigint[])) AS p
  CROSS JOIN LATERAL (
    SELECT e.history_id FROM push_deliveries e
    WHERE e.subscription_id = $1 AND e.payment_id = p.payment_id AND e.delivered_at IS NULL
      AND e.history_id <> ALL ((SELECT ids FROM delivered_now)::bigint[])
    ORDER BY e.transaction_id, e.history_id
    LIMIT 1
  ) AS n
),
promoted AS (
  UPDATE push_deliveries d
  SET next_attempt_at = least(d.next_attempt_at, now())
  FROM next_of_payment n
  WHERE d.subscription_id = $1 AND d.history_id = n.history_id
    AND d.history_id NOT IN (SELECT o.history_id FROM outcome o)
),
position AS (
  SELECT coalesce(u.transaction_id, s.dispatched_transaction) AS transaction_id, coalesce(u.history_id - 1, s.dispatched_id) AS id
  FROM push_subscriptions s
  LEFT JOIN LATERAL (
    SELECT e.transaction_id, e.history_id FROM push_deliveries e
    WHERE e.subscription_id = $1 AND e.delivered_at IS NULL AND e.history_id <> ALL ((SELECT ids FROM delivered_now)::bigint[])
    ORDER BY e.transaction_id, e.history_id
    LIMIT 1
  ) AS u ON true
  WHERE s.id = $1
),
long_failing AS (
  SELECT EXISTS (
    SELECT 1 FROM push_deliveries e
    WHERE e.subscription_id = $1 AND e.delivered_at IS NULL AND e.first_attempt_at < now() - $8 * interval '1 hour'
      AND e.history_id <> ALL ((SELECT ids FROM delivered_now)::bigint[])) AS found
)
UPDATE push_subscriptions s
SET delivered_transaction = CASE WHEN (p.transaction_id, p.id) > (s.delivered_transaction, s.delivered_id) THEN p.transaction_id ELSE s.delivered_transaction END,
    delivered_id = CASE WHEN (p.transaction_id, p.id) > (s.delivered_transaction, s.delivered_id) THEN p.id ELSE s.delivered_id END,
    state = CASE
      WHEN s.state = 'disabled' THEN s.state
      WHEN $7 THEN 'failing'
      WHEN s.state = 'failing' AND NOT (SELECT found FROM long_failing) THEN 'active'
      ELSE s.state END,
    failing_since = CASE
      WHEN s.state = 'disabled' THEN s.failing_since
      WHEN $7 THEN coalesce(s.failing_since, now())
      WHEN s.state = 'failing' AND NOT (SELECT found FROM long_failing) THEN NULL
      ELSE s.failing_since END
FROM position p
WHERE s.id = $1
RETURNING s.state`;

/** The senders' statements: claim due changes of a subscription, record how their attempts went. */
export class PushDeliveryStore {
  constructor(private readonly pool: Pool) {}

  /**
   * Up to `limit` due changes of the subscription, each leased for `leaseMs`, and how many due
   * changes were parked behind an earlier one: when some were, more may be due behind them.
   */
  async claim(subscriptionId: string, limit: number, leaseMs: number): Promise<{ deliveries: ClaimedDelivery[]; parked: number }> {
    const { rows } = await this.pool.query<ClaimedDelivery & { parked: number }>({
      name: 'push-claim',
      text: CLAIM_SQL,
      values: [subscriptionId, limit, leaseMs],
    });
    const deliveries = rows.filter((row) => row.history_id !== null).map(({ parked: _parked, ...delivery }) => delivery);
    return { deliveries, parked: rows[0].parked };
  }

  /**
   * Records the outcomes and moves the position. `markFailing`: one of the failures is of a change
   * that has failed for `failingAfterHours`. Returns the subscription's state after it.
   */
  async record(subscriptionId: string, outcomes: DeliveryOutcome[], markFailing: boolean, failingAfterHours: number): Promise<string | undefined> {
    const { rows } = await this.pool.query<{ state: string }>({
      name: 'push-record',
      text: RECORD_SQL,
      values: [
        subscriptionId,
        outcomes.map((outcome) => outcome.history_id),
        outcomes.map((outcome) => outcome.delivered),
        outcomes.map((outcome) => outcome.response_code),
        outcomes.map((outcome) => outcome.error),
        outcomes.map((outcome) => outcome.retry_in_ms),
        markFailing,
        failingAfterHours,
      ],
    });
    return rows[0]?.state;
  }
}
