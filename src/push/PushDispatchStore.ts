import { Pool } from 'pg';
import { SubscriptionState } from './subscription';

/** A subscription that is sent changes: what a worker needs to run its lane. */
export interface EnabledSubscription {
  id: string;
  url: string;
  state: Exclude<SubscriptionState, 'disabled'>;
  /** Changes with every edit, so that a lane is rebuilt when its URL changes. */
  updated_at: string;
}

/** How many changes one dispatch took into each subscription's deliveries. */
export interface Dispatch {
  dispatched: Array<{ subscription_id: string; copied: number }>;
  /** Subscriptions with changes that another statement held (another worker's dispatch, or an outcome being recorded). */
  skipped: number;
}

// Each enabled subscription that no other worker is dispatching right now (SKIP LOCKED) takes the
// matching changes after its cursor, in the change feed's order and only below the horizon (so
// none is skipped, see src/changes/ChangeFeed.ts), into push_deliveries, and its cursor moves on:
// after the last change taken for a full page, else to the horizon. One statement, one
// transaction: the cursor never moves without the rows. A replay set the cursor back, so a
// change delivered before is made due again.
const DISPATCH_SQL = `
WITH horizon AS MATERIALIZED (SELECT pg_snapshot_xmin(pg_current_snapshot()) AS xmin),
subscriptions AS MATERIALIZED (
  SELECT s.id, s.payment_kinds, s.statuses, s.dispatched_transaction, s.dispatched_id
  FROM push_subscriptions s
  WHERE s.state <> 'disabled' AND s.dispatched_transaction < (SELECT xmin FROM horizon)
  FOR UPDATE SKIP LOCKED
),
page AS MATERIALIZED (
  SELECT s.id AS subscription_id, c.*
  FROM subscriptions s
  CROSS JOIN LATERAL (
    SELECT h.id, h.transaction_id, h.payment_kind, h.payment_id, h.recorded_at
    FROM payment_status_history h
    WHERE h.status_changed
      AND (h.transaction_id, h.id) > (s.dispatched_transaction, s.dispatched_id)
      AND h.transaction_id < (SELECT xmin FROM horizon)
      AND (s.payment_kinds IS NULL OR h.payment_kind = ANY (s.payment_kinds))
      AND (s.statuses IS NULL OR h.status = ANY (s.statuses))
    ORDER BY h.transaction_id, h.id
    LIMIT $1
  ) AS c
),
taken AS (
  INSERT INTO push_deliveries (subscription_id, history_id, transaction_id, payment_kind, payment_id, recorded_at)
  SELECT subscription_id, id, transaction_id, payment_kind, payment_id, recorded_at FROM page
  ON CONFLICT (subscription_id, history_id) DO UPDATE
    SET delivered_at = NULL, next_attempt_at = now(), attempts = 0, first_attempt_at = NULL, last_error = NULL, last_response_code = NULL
    WHERE push_deliveries.delivered_at IS NOT NULL
),
progress AS (
  SELECT s.id, count(p.id) AS copied,
         (array_agg(p.transaction_id ORDER BY p.transaction_id DESC, p.id DESC))[1] AS last_transaction,
         (array_agg(p.id ORDER BY p.transaction_id DESC, p.id DESC))[1] AS last_id
  FROM subscriptions s LEFT JOIN page p ON p.subscription_id = s.id
  GROUP BY s.id
),
moved AS (
  UPDATE push_subscriptions s
  SET dispatched_transaction = CASE WHEN p.copied = $1 THEN p.last_transaction ELSE (SELECT xmin FROM horizon) END,
      dispatched_id = CASE WHEN p.copied = $1 THEN p.last_id ELSE 0 END
  FROM progress p
  WHERE s.id = p.id
  RETURNING s.id, p.copied
)
SELECT coalesce((SELECT json_agg(json_build_object('subscription_id', id, 'copied', copied)) FROM moved), '[]'::json) AS dispatched,
  (SELECT count(*) FROM push_subscriptions s WHERE s.state <> 'disabled' AND s.dispatched_transaction < (SELECT xmin FROM horizon))::int
    - (SELECT count(*) FROM subscriptions)::int AS skipped`;

/** Pruning goes in slices, so that it never holds many locks or a long transaction. */
const PRUNE_SLICE = 5000;

// A replay, or a first subscription with a large backlog, copies rows faster than autovacuum
// analyzes the table (once a minute at best). With the statistics of a table that was nearly
// empty, the planner takes the smallest partial index for the claim's lookups, and every claim
// then reads the whole backlog: the table is analyzed after this many copied rows (per worker),
// at most once a minute (later growth the planner scales from the table's size on disk).
// Without the table's ownership, ANALYZE only warns and skips it.
const ANALYZE_AFTER_COPIED = 10_000;
const ANALYZE_INTERVAL_MS = 60_000;

/** The dispatcher's statements: changes into deliveries, the subscriptions to run, old deliveries out. */
export class PushDispatchStore {
  private copiedSinceAnalyze = 0;
  private analyzedAt = 0;

  constructor(private readonly pool: Pool) {}

  /** Takes up to `limit` changes per subscription into its deliveries; a subscription that got `limit` has more waiting. */
  async dispatch(limit: number): Promise<Dispatch> {
    const { rows } = await this.pool.query<Dispatch>({ name: 'push-dispatch', text: DISPATCH_SQL, values: [limit] });
    this.copiedSinceAnalyze += rows[0].dispatched.reduce((sum, { copied }) => sum + Number(copied), 0);
    if (this.copiedSinceAnalyze >= ANALYZE_AFTER_COPIED && Date.now() - this.analyzedAt >= ANALYZE_INTERVAL_MS) {
      this.copiedSinceAnalyze = 0;
      this.analyzedAt = Date.now();
      await this.pool.query('ANALYZE push_deliveries');
    }
    return rows[0];
  }

  async enabledSubscriptions(): Promise<EnabledSubscription[]> {
    const { rows } = await this.pool.query<EnabledSubscription>(
      `SELECT id, url, state, updated_at::text AS updated_at FROM push_subscriptions WHERE state <> 'disabled' ORDER BY id`,
    );
    return rows;
  }

  /** Deletes deliveries delivered more than `days` ago; returns how many. */
  async pruneDelivered(days: number): Promise<number> {
    let pruned = 0;
    for (;;) {
      const { rowCount } = await this.pool.query(
        `DELETE FROM push_deliveries WHERE ctid = ANY (ARRAY(
           SELECT ctid FROM push_deliveries WHERE delivered_at < now() - $1 * interval '1 day' LIMIT $2))`,
        [days, PRUNE_SLICE],
      );
      pruned += rowCount ?? 0;
      if ((rowCount ?? 0) < PRUNE_SLICE) return pruned;
    }
  }
}
