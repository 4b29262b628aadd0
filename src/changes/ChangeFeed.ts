import { Pool } from 'pg';
import { EventSource } from '../events/receivedEvent';
import { canonicalTimestampSql as utc } from '../events/timestamps';
import { PaymentKind, PaymentStatus } from '../events/upvestEvents';
import { FeedPosition } from './ChangeCursors';

export interface ChangeFilters {
  kind?: PaymentKind;
  status?: PaymentStatus;
  paymentId?: string;
}

/** One status change, as the feed answers it. */
export interface StatusChange {
  payment_kind: PaymentKind;
  payment_id: string;
  previous_status: PaymentStatus | null;
  status: PaymentStatus;
  event_id: string;
  event_type: string;
  event_created_at: string;
  source: EventSource;
  recorded_at: string;
}

export interface ChangePage {
  changes: StatusChange[];
  /** Where the next read goes on: after the last change, or, for a page that is not full, at the horizon. */
  next: FeedPosition;
}

type ChangeRow = StatusChange & { transaction_id: string; id: string; horizon: string };

// The horizon is the oldest transaction still running anywhere in the cluster: every transaction
// below it has ended, so no row below it can still appear. Reading only there, in (transaction, id)
// order, skips nothing and repeats nothing, however concurrent transactions commit. Static SQL: a
// filter that is not given is null.
const READ_SQL = `
WITH horizon AS MATERIALIZED (SELECT pg_snapshot_xmin(pg_current_snapshot()) AS xmin),
page AS (
  SELECT h.payment_kind, h.payment_id, h.previous_status, h.status, h.event_id, h.event_type,
         ${utc('h.event_created_at')} AS event_created_at, h.source, ${utc('h.recorded_at')} AS recorded_at,
         h.transaction_id, h.id
  FROM payment_status_history AS h
  WHERE h.status_changed
    AND (h.transaction_id, h.id) > ($1::xid8, $2::bigint)
    AND h.transaction_id < (SELECT xmin FROM horizon)
    AND ($4::payment_kind IS NULL OR h.payment_kind = $4)
    AND ($5::payment_status IS NULL OR h.status = $5)
    AND ($6::uuid IS NULL OR h.payment_id = $6)
  ORDER BY h.transaction_id, h.id
  LIMIT $3
)
SELECT page.payment_kind, page.payment_id, page.previous_status, page.status, page.event_id, page.event_type,
       page.event_created_at, page.source, page.recorded_at,
       page.transaction_id::text AS transaction_id, page.id::text AS id, horizon.xmin::text AS horizon
FROM horizon LEFT JOIN page ON true
ORDER BY page.transaction_id, page.id`;

const HORIZON_SQL = 'SELECT pg_snapshot_xmin(pg_current_snapshot())::text AS horizon';

// Rows recorded since the date need not be in (transaction, id) order among the others: start
// before the first of them, and a few earlier changes come along rather than a later one missing.
const SINCE_SQL = `
SELECT transaction_id::text AS transaction, (id - 1)::text AS id
FROM payment_status_history
WHERE status_changed AND recorded_at >= $1
ORDER BY transaction_id, id
LIMIT 1`;

/** The status changes of every payment in an order that never changes, read from payment_status_history. */
export class ChangeFeed {
  constructor(private readonly pool: Pool) {}

  async read(after: FeedPosition, limit: number, filters: ChangeFilters = {}): Promise<ChangePage> {
    const { rows } = await this.pool.query<ChangeRow>({
      name: 'change-feed-read',
      text: READ_SQL,
      values: [after.transaction, after.id, limit, filters.kind ?? null, filters.status ?? null, filters.paymentId ?? null],
    });
    // The horizon comes with every answer; without a change, the one row holds only it.
    const changes = rows.filter((row) => row.id !== null);
    const last = changes.at(-1);
    const next = last !== undefined && changes.length === limit ? { transaction: last.transaction_id, id: last.id } : atLeast(after, rows[0].horizon);
    return { changes: changes.map(({ transaction_id: _t, id: _i, horizon: _h, ...change }) => change), next };
  }

  /** Where a reader starts that wants only the changes from now on. */
  async now(): Promise<FeedPosition> {
    const { rows } = await this.pool.query<{ horizon: string }>(HORIZON_SQL);
    return { transaction: rows[0].horizon, id: '0' };
  }

  /** Where a reader starts that wants the changes recorded since `date` (canonical RFC 3339). */
  async since(date: string): Promise<FeedPosition> {
    const { rows } = await this.pool.query<FeedPosition>(SINCE_SQL, [date]);
    return rows[0] ?? this.now();
  }
}

/** The horizon, unless the position is beyond it already. */
function atLeast(position: FeedPosition, horizon: string): FeedPosition {
  return BigInt(horizon) > BigInt(position.transaction) ? { transaction: horizon, id: '0' } : position;
}
