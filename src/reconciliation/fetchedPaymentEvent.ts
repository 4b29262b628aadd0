import crypto from 'node:crypto';
import { canonicalTimestamp } from '../events/timestamps';
import { PaymentEvent, PaymentKind } from '../events/upvestEvents';
import { EventSource, ReceivedEvent } from '../events/receivedEvent';
import { PAYMENT_RESOURCE_SCHEMAS } from '../provider/UpvestApi';
import { describeZodIssues } from '../shared/describeZodIssues';

// Fixed namespace of this service's derived event ids (UUID version 5, RFC 9562).
const FETCHED_STATE_NAMESPACE = Buffer.from('5b0f6a52c3a94b4f8f1e2d7c9a0e6b13', 'hex');

export type FetchedPayment = { received: ReceivedEvent } | { problem: string };

/**
 * Turns a payment fetched from the provider's API into an event the projection applies by the
 * same rules as a webhook event: status from the resource, time from its updated_at. Its id is
 * derived from kind, payment id, status and time, so fetching an unchanged payment again is a
 * duplicate, not a new history row. There is no webhook, so webhook_id stays null.
 */
export function fetchedPaymentEvent(kind: PaymentKind, resource: unknown, source: Exclude<EventSource, 'webhook'>, receivedAt: Date): FetchedPayment {
  const parsed = PAYMENT_RESOURCE_SCHEMAS[kind].safeParse(resource);
  if (!parsed.success) {
    return { problem: `invalid ${kind} resource: ${describeZodIssues(parsed.error, 3)}` };
  }
  const object = parsed.data;
  if (object.status === undefined) return { problem: `${kind} ${object.id} has no status` };
  const changedAt = object.updated_at ?? object.created_at;
  const event = {
    id: derivedEventId(`${kind}:${object.id.toLowerCase()}:${object.status}:${canonicalTimestamp(changedAt)}`),
    created_at: changedAt,
    type: `${kind}.${object.status}`,
    object,
  } as unknown as PaymentEvent; // the projection never reads webhook_id; it is stored as null
  return { received: { event, receivedAt: receivedAt.toISOString(), source } };
}

function derivedEventId(name: string): string {
  const hash = crypto.createHash('sha1').update(FETCHED_STATE_NAMESPACE).update(name).digest();
  hash[6] = (hash[6] & 0x0f) | 0x50;
  hash[8] = (hash[8] & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
