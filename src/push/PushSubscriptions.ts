import { randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import { FeedPosition, isAfter } from '../changes/ChangeCursors';
import { ChangeFeed } from '../changes/ChangeFeed';
import { canonicalTimestampSql as utc } from '../events/timestamps';
import { ReplayPositionAheadError, SubscriptionNotFoundError } from './errors';
import { inFlight } from './PushDeliveryStore';
import { generateSigningSecret } from './standardWebhookSignature';
import { SubscriptionFilters, SubscriptionView } from './subscription';

export interface NewSubscription extends Partial<SubscriptionFilters> {
  url: string;
  description?: string;
}

export type SubscriptionChanges = Partial<Pick<SubscriptionView, 'url' | 'description' | 'payment_kinds' | 'statuses'>>;

/** One change's delivery to a subscription: where it stands and how its attempts went. */
export interface DeliveryView {
  history_id: string;
  event_id: string;
  payment_kind: string;
  payment_id: string;
  status: string;
  recorded_at: string;
  attempts: number;
  first_attempt_at: string | null;
  last_attempt_at: string | null;
  next_attempt_at: string | null;
  /** Being sent now: claimed, its lease not over, its outcome not recorded yet. */
  in_flight: boolean;
  last_response_code: number | null;
  last_error: string | null;
  delivered_at: string | null;
}

export interface DeliveryQuery {
  /** Only the changes not delivered yet. */
  undelivered: boolean;
  limit: number;
}

const VIEW_COLUMNS = `s.id, s.url, s.description, s.payment_kinds::text[] AS payment_kinds, s.statuses::text[] AS statuses, s.state,
  ${utc('s.failing_since')} AS failing_since,
  s.delivered_transaction::text || '.' || s.delivered_id AS position,
  s.dispatched_transaction::text || '.' || s.dispatched_id AS dispatched,
  CASE WHEN s.previous_secret_expires_at > now() THEN ${utc('s.previous_secret_expires_at')} END AS previous_secret_expires_at,
  backlog.undelivered, ${utc('backlog.oldest')} AS oldest_undelivered_recorded_at,
  ${utc('s.created_at')} AS created_at, ${utc('s.updated_at')} AS updated_at`;

const BACKLOG = `LEFT JOIN LATERAL (SELECT count(*)::int AS undelivered, min(d.recorded_at) AS oldest
  FROM push_deliveries d WHERE d.subscription_id = s.id AND d.delivered_at IS NULL) AS backlog ON true`;

const SELECT_VIEW = `SELECT ${VIEW_COLUMNS} FROM push_subscriptions s ${BACKLOG}`;

/**
 * The subscriptions, as an operator manages them (admin API and CLI). A new subscription is sent
 * the changes recorded from then on; a replay sets its position back.
 */
export class PushSubscriptions {
  private readonly feed: ChangeFeed;

  constructor(private readonly pool: Pool) {
    this.feed = new ChangeFeed(pool);
  }

  /** The new subscription and its signing secret, which is shown this once. */
  async add(input: NewSubscription): Promise<{ subscription: SubscriptionView; secret: string }> {
    const secret = generateSigningSecret();
    const start = await this.feed.now();
    const id = randomUUID();
    await this.pool.query(
      `INSERT INTO push_subscriptions (id, url, description, payment_kinds, statuses, secrets,
         dispatched_transaction, dispatched_id, delivered_transaction, delivered_id)
       VALUES ($1, $2, $3, $4::payment_kind[], $5::payment_status[], ARRAY[$6], $7::xid8, $8, $7::xid8, $8)`,
      [id, input.url, input.description ?? '', input.payment_kinds ?? null, input.statuses ?? null, secret, start.transaction, start.id],
    );
    return { subscription: await this.find(id), secret };
  }

  async list(): Promise<SubscriptionView[]> {
    const { rows } = await this.pool.query<SubscriptionView>(`${SELECT_VIEW} ORDER BY s.created_at, s.id`);
    return rows;
  }

  /** Throws SubscriptionNotFoundError. */
  async find(id: string): Promise<SubscriptionView> {
    const { rows } = await this.pool.query<SubscriptionView>(`${SELECT_VIEW} WHERE s.id = $1`, [id]);
    if (rows.length === 0) throw new SubscriptionNotFoundError(id);
    return rows[0];
  }

  /** Changes the given fields; a filter given as null matches everything again. */
  async update(id: string, changes: SubscriptionChanges): Promise<SubscriptionView> {
    await this.changeRow(
      id,
      `url = CASE WHEN $2 THEN $3 ELSE url END,
       description = CASE WHEN $4 THEN $5 ELSE description END,
       payment_kinds = CASE WHEN $6 THEN $7::payment_kind[] ELSE payment_kinds END,
       statuses = CASE WHEN $8 THEN $9::payment_status[] ELSE statuses END`,
      [
        changes.url !== undefined, changes.url ?? null,
        changes.description !== undefined, changes.description ?? null,
        changes.payment_kinds !== undefined, changes.payment_kinds ?? null,
        changes.statuses !== undefined, changes.statuses ?? null,
      ],
    );
    return this.find(id);
  }

  /** Nothing is sent to a disabled subscription; its changes keep coming when it is enabled again. */
  async disable(id: string): Promise<SubscriptionView> {
    await this.changeRow(id, `state = 'disabled', failing_since = NULL`);
    return this.find(id);
  }

  async enable(id: string): Promise<SubscriptionView> {
    await this.changeRow(id, `state = 'active', failing_since = NULL`);
    return this.find(id);
  }

  /** Deletes the subscription and its deliveries. */
  async delete(id: string): Promise<void> {
    const { rowCount } = await this.pool.query('DELETE FROM push_subscriptions WHERE id = $1', [id]);
    if (rowCount === 0) throw new SubscriptionNotFoundError(id);
  }

  /**
   * A new signing secret, shown this once. The previous one goes on signing for `overlapSeconds`,
   * so that every delivery in that time carries both signatures while the subscriber switches.
   */
  async rotateSecret(id: string, overlapSeconds: number): Promise<{ subscription: SubscriptionView; secret: string }> {
    const secret = generateSigningSecret();
    await this.changeRow(id, `secrets = ARRAY[$2, secrets[1]], previous_secret_expires_at = now() + $3 * interval '1 second'`, [secret, overlapSeconds]);
    return { subscription: await this.find(id), secret };
  }

  /**
   * Sends the subscription every matching change after `position` again, delivered or not, in
   * the feed's order per payment. The subscriber deduplicates by `webhook-id`.
   */
  async replayFrom(id: string, position: FeedPosition): Promise<SubscriptionView> {
    // A position beyond the feed's end would skip the changes on the way. The end only moves on, so
    // a position checked against it now is still within it when the row is changed.
    const end = await this.feed.now();
    if (isAfter(position, end)) {
      await this.find(id);
      throw new ReplayPositionAheadError(`${position.transaction}.${position.id}`, `${end.transaction}.${end.id}`);
    }
    await this.changeRow(
      id,
      `dispatched_transaction = $2::xid8, dispatched_id = $3, delivered_transaction = $2::xid8, delivered_id = $3`,
      [position.transaction, position.id],
    );
    return this.find(id);
  }

  /** The same from the first change recorded at or after `date` (canonical RFC 3339). */
  async replaySince(id: string, date: string): Promise<SubscriptionView> {
    return this.replayFrom(id, await this.feed.since(date));
  }

  /** The subscription's deliveries, newest change first. */
  async deliveries(id: string, query: DeliveryQuery): Promise<DeliveryView[]> {
    await this.find(id);
    const { rows } = await this.pool.query<DeliveryView>(
      `SELECT d.history_id::text AS history_id, h.event_id, d.payment_kind, d.payment_id, h.status, ${utc('d.recorded_at')} AS recorded_at,
         d.attempts, ${utc('d.first_attempt_at')} AS first_attempt_at, ${utc('d.last_attempt_at')} AS last_attempt_at,
         CASE WHEN d.delivered_at IS NULL THEN ${utc('d.next_attempt_at')} END AS next_attempt_at,
         ${inFlight('d')} AS in_flight,
         d.last_response_code, d.last_error, ${utc('d.delivered_at')} AS delivered_at
       FROM push_deliveries d JOIN payment_status_history h ON h.id = d.history_id
       WHERE d.subscription_id = $1 AND (NOT $2 OR d.delivered_at IS NULL)
       ORDER BY d.transaction_id DESC, d.history_id DESC
       LIMIT $3`,
      [id, query.undelivered, query.limit],
    );
    return rows;
  }

  private async changeRow(id: string, assignments: string, values: unknown[] = []): Promise<void> {
    const { rowCount } = await this.pool.query(`UPDATE push_subscriptions SET ${assignments}, updated_at = now() WHERE id = $1`, [id, ...values]);
    if (rowCount === 0) throw new SubscriptionNotFoundError(id);
  }
}
