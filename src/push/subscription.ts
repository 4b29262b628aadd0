import { FeedPosition } from '../changes/ChangeCursors';
import { PaymentKind, PaymentStatus } from '../events/upvestEvents';

export const SUBSCRIPTION_STATES = ['active', 'failing', 'disabled'] as const;
/** `failing`: a change has not been delivered for PUSH_FAILING_AFTER_HOURS; its retries go on. `disabled`: nothing is sent. */
export type SubscriptionState = (typeof SUBSCRIPTION_STATES)[number];

/** Which changes a subscription is sent: null means every kind, every status. */
export interface SubscriptionFilters {
  payment_kinds: PaymentKind[] | null;
  statuses: PaymentStatus[] | null;
}

/** A subscription as the admin API and the CLI show it: never with its secrets. */
export interface SubscriptionView extends SubscriptionFilters {
  id: string;
  url: string;
  description: string;
  state: SubscriptionState;
  failing_since: string | null;
  /** Every matching change up to here was answered 2xx (`<transaction>.<id>` of the change feed). */
  position: string;
  /** How far the changes were taken into the deliveries. */
  dispatched: string;
  /** Until when the previous secret signs too, after a rotation; null when only one secret signs. */
  previous_secret_expires_at: string | null;
  undelivered: number;
  oldest_undelivered_recorded_at: string | null;
  created_at: string;
  updated_at: string;
}

/** The position as text, `<transaction>.<id>`, as the admin API shows and takes it. */
export function positionText(position: FeedPosition): string {
  return `${position.transaction}.${position.id}`;
}
