import { PAYMENT_EVENT_TYPES, PAYMENT_KINDS } from '../events/upvestEvents';
import { IngestOutcome } from '../ingest/BatchIngestor';

/** Label of events without a usable type. */
const UNKNOWN_TYPE = 'unknown';

const TYPE_PREFIX = /^[A-Za-z0-9_]{1,40}$/;

/**
 * The `type` label of upvest_webhook_events_total, bounded whatever the provider sends: the
 * withdrawal and direct-debit types as they are, foreign types by their prefix (`USER.CREATED`
 * → `USER`), and anything else as `unknown`.
 */
export function eventTypeLabel(type: string | undefined, outcome: IngestOutcome): string {
  if (type === undefined) return UNKNOWN_TYPE;
  if (PAYMENT_EVENT_TYPES.has(type)) return type;
  const dot = type.indexOf('.');
  const prefix = dot === -1 ? type : type.slice(0, dot);
  if (outcome === 'quarantined') {
    // E.g. WITHDRAWAL.REFUNDED: a payment kind with a status we do not know.
    return (PAYMENT_KINDS as readonly string[]).includes(prefix) ? prefix : UNKNOWN_TYPE;
  }
  return TYPE_PREFIX.test(prefix) ? prefix : UNKNOWN_TYPE;
}
