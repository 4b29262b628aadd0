import { randomUUID } from 'node:crypto';
import { ReceivedEvent } from '../src/events/receivedEvent';
import {
  DirectDebitEvent,
  PaymentKind,
  PaymentStatus,
  WithdrawalEvent,
  directDebitEventSchema,
  withdrawalEventSchema,
} from '../src/events/upvestEvents';
import { PaymentFields, PaymentUpdate } from '../src/projection/paymentState';

/**
 * Withdrawal and direct-debit events as the provider sends them, for the tests and the bench. The defaults
 * are the provider's example (examples/withdrawal-batch.json), but every event gets a fresh id unless told
 * otherwise, so that nothing is a duplicate by accident.
 */

/** The provider's own example uses a version-6 style uuid that strict RFC 4122 validators reject. */
export const PROVIDER_EXAMPLE_UUID = '1ea60f56-b67b-61fc-829a-0242ac130003';

const WITHDRAWAL_ID = '6ffa6b16-2380-4e7a-88b2-ae625c8eef99';
const DIRECT_DEBIT_ID = '1ab4fef9-a097-4c6f-9345-647025d5fde6';
const WEBHOOK_ID = '9df39835-be87-4243-9018-f2500b39cee6';
const EVENT_CREATED_AT = '2021-07-21T14:10:00.00Z';
const PAYMENT_CREATED_AT = '2020-08-24T14:15:22Z';

/** A deterministic, valid uuid: `uuid(1)` is `00000000-0000-4000-8000-000000000001`. */
export function uuid(n: number): string {
  return `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;
}

export interface EventOptions {
  /** A fresh uuid unless given. */
  id?: string;
  /** The payment's id, `object.id`. */
  paymentId?: string;
  /** The status of the type (`WITHDRAWAL.<status>`) and of the object; NEW unless given. */
  status?: PaymentStatus;
  /** Provider time: the event's `created_at` and a withdrawal's `object.updated_at`. */
  createdAt?: string;
  /** Merged into the default object. */
  object?: Record<string, unknown>;
  /** Any other top-level field, by its name on the wire, set as given: an unknown field, or a `type` the schema rejects. */
  [field: string]: unknown;
}

/** An event as it is sent, not validated: a test may have set any top-level field to anything. */
export interface ProviderEvent {
  id: string;
  created_at: string;
  type: string;
  object: Record<string, unknown>;
  webhook_id: string;
  [field: string]: unknown;
}

export function withdrawalEvent(options: EventOptions = {}): ProviderEvent {
  return providerEvent('WITHDRAWAL', options, {
    id: options.paymentId ?? WITHDRAWAL_ID,
    created_at: PAYMENT_CREATED_AT,
    updated_at: options.createdAt ?? EVENT_CREATED_AT,
    reference_account_id: '295378ec-036e-4f3f-ae5c-2be85c93e837',
    account_group_id: 'ac1c39e9-2101-46b8-a624-d10a9e351b6c',
    user_id: 'b668282b-cdf3-439a-bda2-3f3c9f655bb7',
    amount: '200.00',
    currency: 'EUR',
    remittance_information: 'Withdrawal',
  });
}

/** Without the optional `updated_at`, as in the provider's example. */
export function directDebitEvent(options: EventOptions = {}): ProviderEvent {
  return providerEvent('DIRECT_DEBIT', options, {
    id: options.paymentId ?? DIRECT_DEBIT_ID,
    created_at: PAYMENT_CREATED_AT,
    user_id: '82b49999-1145-4e05-916a-567662daa7bc',
    account_group_id: PROVIDER_EXAMPLE_UUID,
    mandate_id: '730b8719-0bc6-401d-98dd-b2de72afbf05',
    cash_amount: '200.00',
    currency: 'EUR',
    remittance_information: 'payment for green energy portfolio',
  });
}

function providerEvent(kind: PaymentKind, options: EventOptions, defaultObject: Record<string, unknown>): ProviderEvent {
  const { id = randomUUID(), paymentId, status = 'NEW', createdAt = EVENT_CREATED_AT, object, ...fields } = options;
  return {
    id,
    created_at: createdAt,
    type: `${kind}.${status}`,
    object: { ...defaultObject, status, ...object },
    webhook_id: WEBHOOK_ID,
    ...fields,
  };
}

export function parsedWithdrawal(options: EventOptions = {}): WithdrawalEvent {
  return withdrawalEventSchema.parse(withdrawalEvent(options));
}

export function parsedDirectDebit(options: EventOptions = {}): DirectDebitEvent {
  return directDebitEventSchema.parse(directDebitEvent(options));
}

/** A request body `{"payload":[...]}` holding the given events. */
export function batchOf(...events: unknown[]): string {
  return JSON.stringify({ payload: events });
}

/** `batchOf` as the bytes a request carries. */
export function batchBody(...events: unknown[]): Buffer {
  return Buffer.from(batchOf(...events), 'utf8');
}

/** A validated withdrawal event handed to the projection, with a distinct id per `n`, received when it was created. */
export function receivedEvent(n: number, createdAt = EVENT_CREATED_AT): ReceivedEvent {
  return { event: parsedWithdrawal({ id: uuid(n), createdAt }), receivedAt: createdAt };
}

/** One event as the projection sees it; the fields name the event, so one can tell which event they came from. */
export function paymentUpdate(eventId: string, status: PaymentStatus, eventCreatedAt: string, fields?: PaymentFields): PaymentUpdate {
  return { eventId, status, eventCreatedAt, fields: fields ?? { source_event: eventId, amount: '200.00' } };
}
