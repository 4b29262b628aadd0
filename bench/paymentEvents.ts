import { randomUUID } from 'node:crypto';
import { PaymentEvent, PaymentKind, PaymentStatus } from '../src/events/upvestEvents';
import { directDebitEvent, withdrawalEvent } from '../testkit/paymentEvents';

/**
 * Provider events for the benchmark, shaped like examples/withdrawal-batch.json. Every event and
 * every payment gets a fresh uuid, so nothing the bench sends is a duplicate of anything else.
 */

const LIFECYCLE: readonly PaymentStatus[] = ['NEW', 'PROCESSING', 'CONFIRMED'];

/** The events of one new payment, one per status, one second apart in provider time. */
export function paymentLifecycle(kind: PaymentKind, statuses: readonly PaymentStatus[], start: Date): PaymentEvent[] {
  const paymentId = randomUUID();
  return statuses.map((status, index) => {
    const createdAt = new Date(start.getTime() + index * 1000).toISOString();
    const build = kind === 'WITHDRAWAL' ? withdrawalEvent : directDebitEvent;
    return build({ paymentId, status, createdAt }) as PaymentEvent;
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

/** Fisher-Yates. */
function shuffle<T>(items: T[]): T[] {
  for (let index = items.length - 1; index > 0; index -= 1) {
    const other = Math.floor(Math.random() * (index + 1));
    [items[index], items[other]] = [items[other], items[index]];
  }
  return items;
}
