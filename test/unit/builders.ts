import { DirectDebitEvent, PaymentStatus, WithdrawalEvent, directDebitEventSchema, withdrawalEventSchema } from '../../src/events/upvestEvents';
import { PaymentFields, PaymentUpdate } from '../../src/projection/paymentState';
import { ReceivedEvent } from '../../src/projection/ProjectionStore';

/** An event as it appears in a request body, before validation. */
export type RawEvent = Record<string, unknown> & { object: Record<string, unknown> };

/** Overrides for a raw event; `object` is merged into the default object rather than replacing it. */
export type EventOverrides = Record<string, unknown> & { object?: Record<string, unknown> };

/** The provider's own example uses a version-6 style uuid that strict RFC 4122 validators reject. */
export const PROVIDER_EXAMPLE_UUID = '1ea60f56-b67b-61fc-829a-0242ac130003';

/** A deterministic, valid uuid: `uuid(1)` is `00000000-0000-4000-8000-000000000001`. */
export function uuid(n: number): string {
  return `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;
}

export const PAYMENT_ID = '6ffa6b16-2380-4e7a-88b2-ae625c8eef99';
export const WEBHOOK_ID = '9df39835-be87-4243-9018-f2500b39cee6';

function build(defaults: RawEvent, overrides: EventOverrides): RawEvent {
  const { object, ...event } = overrides;
  return { ...defaults, ...event, object: { ...defaults.object, ...object } };
}

/** A valid WITHDRAWAL.NEW event as the provider sends it (cf. examples/withdrawal-batch.json). */
export function withdrawalEvent(overrides: EventOverrides = {}): RawEvent {
  return build(
    {
      id: '8962b496-8d42-4560-bfab-10490dd1a721',
      created_at: '2021-07-21T14:10:00.00Z',
      type: 'WITHDRAWAL.NEW',
      object: {
        id: PAYMENT_ID,
        user_id: 'b668282b-cdf3-439a-bda2-3f3c9f655bb7',
        account_group_id: 'ac1c39e9-2101-46b8-a624-d10a9e351b6c',
        reference_account_id: '295378ec-036e-4f3f-ae5c-2be85c93e837',
        amount: '200.00',
        currency: 'EUR',
        remittance_information: 'Withdrawal',
        created_at: '2020-08-24T14:15:22Z',
        updated_at: '2020-08-24T14:15:22Z',
        status: 'NEW',
      },
      webhook_id: WEBHOOK_ID,
    },
    overrides,
  );
}

/** A valid DIRECT_DEBIT.NEW event with only the required fields. */
export function directDebitEvent(overrides: EventOverrides = {}): RawEvent {
  return build(
    {
      id: '0b1c2d3e-4f50-4617-8829-3a4b5c6d7e8f',
      created_at: '2021-07-21T14:10:00.00Z',
      type: 'DIRECT_DEBIT.NEW',
      object: {
        id: 'd3b07384-d113-4ec6-a1b5-6e3c2f0a9b11',
        user_id: 'b668282b-cdf3-439a-bda2-3f3c9f655bb7',
        account_group_id: 'ac1c39e9-2101-46b8-a624-d10a9e351b6c',
        mandate_id: '5f2e8c1a-7b3d-4e9f-a0c6-1d2e3f4a5b6c',
        cash_amount: '50.00',
        currency: 'EUR',
        created_at: '2020-08-24T14:15:22Z',
      },
      webhook_id: WEBHOOK_ID,
    },
    overrides,
  );
}

/** A copy of `record` without the named keys (to build events that lack a required field). */
export function without<T extends Record<string, unknown>>(record: T, ...keys: string[]): Record<string, unknown> {
  return Object.fromEntries(Object.entries(record).filter(([key]) => !keys.includes(key)));
}

/** A request body `{"payload":[...]}` holding the given events. */
export function batchBody(...events: unknown[]): Buffer {
  return Buffer.from(JSON.stringify({ payload: events }), 'utf8');
}

export function parsedWithdrawal(overrides: EventOverrides = {}): WithdrawalEvent {
  return withdrawalEventSchema.parse(withdrawalEvent(overrides));
}

export function parsedDirectDebit(overrides: EventOverrides = {}): DirectDebitEvent {
  return directDebitEventSchema.parse(directDebitEvent(overrides));
}

/** A validated withdrawal event handed to the projection, with a distinct id per `n`. */
export function receivedEvent(n: number): ReceivedEvent {
  return { event: parsedWithdrawal({ id: uuid(n) }), receivedAt: '2021-07-21T14:10:01.000000Z' };
}

/** One event as the projection sees it; the fields name the event, so one can tell which event they came from. */
export function paymentUpdate(eventId: string, status: PaymentStatus, eventCreatedAt: string, fields?: PaymentFields): PaymentUpdate {
  return { eventId, status, eventCreatedAt, fields: fields ?? { source_event: eventId, amount: '200.00' } };
}

/** An error shaped like the one Prisma's pg driver adapter throws, carrying the SQLSTATE the server sent. */
export function prismaDatabaseError(sqlState: string, message = `database error ${sqlState}`): Error {
  return Object.assign(new Error(message), { meta: { driverAdapterError: { cause: { originalCode: sqlState } } } });
}
