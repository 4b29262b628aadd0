import { randomUUID } from 'node:crypto';
import { PaymentEvent, PaymentKind, PaymentStatus } from '../src/events/upvestEvents';

/**
 * Provider events for the benchmark, shaped like examples/withdrawal-batch.json. Every event and
 * every payment gets a fresh uuid, so nothing the bench sends is a duplicate of anything else.
 */

const WEBHOOK_ID = '9df39835-be87-4243-9018-f2500b39cee6';
const LIFECYCLE: readonly PaymentStatus[] = ['NEW', 'PROCESSING', 'CONFIRMED'];

/** The events of one new payment, one per status, one second apart in provider time. */
export function paymentLifecycle(kind: PaymentKind, statuses: readonly PaymentStatus[], start: Date): PaymentEvent[] {
  const paymentId = randomUUID();
  return statuses.map((status, index) => {
    const createdAt = new Date(start.getTime() + index * 1000).toISOString();
    return kind === 'WITHDRAWAL' ? withdrawalEvent(paymentId, status, createdAt) : directDebitEvent(paymentId, status, createdAt);
  });
}

/** `count` events for the ingest scenarios: whole NEW/PROCESSING/CONFIRMED lifecycles, withdrawals and direct debits alternating. */
export function ingestEvents(count: number): PaymentEvent[] {
  const events: PaymentEvent[] = [];
  const start = new Date();
  for (let payment = 0; events.length < count; payment += 1) {
    events.push(...paymentLifecycle(payment % 2 === 0 ? 'WITHDRAWAL' : 'DIRECT_DEBIT', LIFECYCLE, start));
  }
  return events.slice(0, count);
}

export interface ProjectionWorkload {
  /** Shuffled, so that a payment's events arrive out of order and in different batches. */
  events: PaymentEvent[];
  withdrawals: number;
  directDebits: number;
}

/**
 * Events for the projection drain: withdrawals with NEW, PROCESSING, CONFIRMED and direct debits
 * that also get a late CANCELLED, which must lose against the earlier CONFIRMED (a final status
 * never changes). Every payment therefore ends CONFIRMED, whatever order the worker sees.
 * `withdrawals * 3 + directDebits * 4` events in total.
 */
export function projectionWorkload(withdrawals: number, directDebits: number): ProjectionWorkload {
  const start = new Date();
  const events: PaymentEvent[] = [];
  for (let index = 0; index < withdrawals; index += 1) events.push(...paymentLifecycle('WITHDRAWAL', LIFECYCLE, start));
  for (let index = 0; index < directDebits; index += 1) {
    events.push(...paymentLifecycle('DIRECT_DEBIT', [...LIFECYCLE, 'CANCELLED'], start));
  }
  return { events: shuffle(events), withdrawals, directDebits };
}

function withdrawalEvent(paymentId: string, status: PaymentStatus, createdAt: string): PaymentEvent {
  return {
    id: randomUUID(),
    created_at: createdAt,
    type: `WITHDRAWAL.${status}`,
    object: {
      id: paymentId,
      created_at: '2020-08-24T14:15:22Z',
      updated_at: createdAt,
      reference_account_id: '295378ec-036e-4f3f-ae5c-2be85c93e837',
      account_group_id: 'ac1c39e9-2101-46b8-a624-d10a9e351b6c',
      user_id: 'b668282b-cdf3-439a-bda2-3f3c9f655bb7',
      amount: '200.00',
      currency: 'EUR',
      remittance_information: 'Withdrawal',
      status,
    },
    webhook_id: WEBHOOK_ID,
  };
}

function directDebitEvent(paymentId: string, status: PaymentStatus, createdAt: string): PaymentEvent {
  return {
    id: randomUUID(),
    created_at: createdAt,
    type: `DIRECT_DEBIT.${status}`,
    object: {
      id: paymentId,
      created_at: '2020-08-24T14:15:22Z',
      user_id: '82b49999-1145-4e05-916a-567662daa7bc',
      account_group_id: '1ea60f56-b67b-61fc-829a-0242ac130003',
      mandate_id: '730b8719-0bc6-401d-98dd-b2de72afbf05',
      cash_amount: '200.00',
      currency: 'EUR',
      remittance_information: 'payment for green energy portfolio',
      status,
    },
    webhook_id: WEBHOOK_ID,
  };
}

/** Fisher-Yates. */
function shuffle<T>(items: T[]): T[] {
  for (let index = items.length - 1; index > 0; index -= 1) {
    const other = Math.floor(Math.random() * (index + 1));
    [items[index], items[other]] = [items[other], items[index]];
  }
  return items;
}
