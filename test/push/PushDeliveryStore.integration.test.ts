import { randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import { PaymentStatus } from '../../src/events/upvestEvents';
import { PushDeliveryStore } from '../../src/push/PushDeliveryStore';
import { PushDispatchStore } from '../../src/push/PushDispatchStore';
import { PushSubscriptions } from '../../src/push/PushSubscriptions';
import { uuid } from '../../testkit/paymentEvents';
import { eventually } from '../support/testService';
import { createTestDatabase, TestDatabase } from '../support/testDatabase';

// A transaction open anywhere in the cluster (other test files run meanwhile) holds the feed's
// horizon back, and so the dispatch: the tests wait for it longer than the default.
jest.setTimeout(120_000);

const LEASE_MS = 30_000;

let database: TestDatabase;
let pool: Pool;
let store: PushDeliveryStore;
let dispatcher: PushDispatchStore;
let subscriptionId: string;

beforeAll(async () => {
  database = await createTestDatabase();
  pool = new Pool({ connectionString: database.url, max: 3 });
  store = new PushDeliveryStore(pool);
  dispatcher = new PushDispatchStore(pool);
  ({ subscription: { id: subscriptionId } } = await new PushSubscriptions(pool).add({ url: 'https://hooks.example.invalid/store' }));
});

afterAll(async () => {
  await pool.end();
  await database.drop();
});

/** Records status changes of payments in one transaction, as the projection does, and waits until they are dispatched. */
async function recordChanges(...changes: Array<[paymentId: string, status: PaymentStatus]>): Promise<void> {
  await pool.query(
    `INSERT INTO payment_status_history (payment_kind, payment_id, event_id, event_type, event_created_at, event_status, status, status_changed)
     SELECT 'WITHDRAWAL', c.payment_id, gen_random_uuid(), 'WITHDRAWAL.' || c.status, now(), c.status::payment_status, c.status::payment_status, true
     FROM unnest($1::uuid[], $2::text[]) WITH ORDINALITY AS c(payment_id, status, n) ORDER BY c.n`,
    [changes.map(([paymentId]) => paymentId), changes.map(([, status]) => status)],
  );
  const expected = (await undeliveredCount()) + changes.length;
  await eventually(async () => {
    await dispatcher.dispatch(1000);
    return (await undeliveredCount()) === expected;
  }, 90_000, 'the dispatch of the changes');
}

async function undeliveredCount(): Promise<number> {
  const { rows } = await pool.query('SELECT count(*)::int AS count FROM push_deliveries WHERE subscription_id = $1 AND delivered_at IS NULL', [subscriptionId]);
  return rows[0].count;
}

/** Each undelivered change of the payment: its status, and in how many seconds it is due (rounded up to tens, for a busy machine). */
async function waiting(paymentId: string): Promise<Array<{ status: string; due_in_s: number; in_flight: boolean }>> {
  const { rows } = await pool.query(
    `SELECT h.status, (ceil(extract(epoch FROM d.next_attempt_at - now()) / 10) * 10)::int AS due_in_s, d.in_flight
     FROM push_deliveries d JOIN payment_status_history h ON h.id = d.history_id
     WHERE d.subscription_id = $1 AND d.payment_id = $2 AND d.delivered_at IS NULL ORDER BY d.transaction_id, d.history_id`,
    [subscriptionId, paymentId],
  );
  return rows;
}

const claim = (limit = 10) => store.claim(subscriptionId, limit, LEASE_MS);
const delivered = (historyId: string) => ({ history_id: historyId, delivered: true, response_code: 204, error: null, retry_in_ms: 0 });
const failed = (historyId: string, retryInMs: number) => ({ history_id: historyId, delivered: false, response_code: 503, error: 'status_5xx: busy', retry_in_ms: retryInMs });

describe('PushDeliveryStore', () => {
  it("claims the first change of each payment and parks the later ones until the change before them is delivered", async () => {
    const [first, second] = [uuid(0x7001), uuid(0x7002)];
    await recordChanges([first, 'NEW'], [first, 'PROCESSING'], [first, 'CONFIRMED'], [second, 'NEW']);

    const { deliveries, parked } = await claim();
    expect(deliveries.map((delivery) => delivery.payment_id)).toEqual([first, second]);
    expect(parked).toBe(2);
    expect(await waiting(first)).toEqual([
      { status: 'NEW', due_in_s: LEASE_MS / 1000, in_flight: true },
      { status: 'PROCESSING', due_in_s: 300, in_flight: false },
      { status: 'CONFIRMED', due_in_s: 300, in_flight: false },
    ]);
    // Nothing is due now: a claim finds nothing and looks at nothing again.
    expect(await claim()).toEqual({ deliveries: [], parked: 0 });

    // The delivery of the first change makes the next one of its payment due at once, and only that one.
    await store.record(subscriptionId, deliveries.map((delivery) => delivered(delivery.history_id)), false, 24);
    expect(await waiting(first)).toEqual([
      { status: 'PROCESSING', due_in_s: 0, in_flight: false },
      { status: 'CONFIRMED', due_in_s: 300, in_flight: false },
    ]);
    const next = await claim();
    expect(next.deliveries.map((delivery) => JSON.parse(delivery.body).data.status)).toEqual(['PROCESSING']);
    expect(next.parked).toBe(0);
  });

  it('does not park a change behind one in flight, whose delivery may be recorded without seeing it', async () => {
    const paymentId = uuid(0x7101);
    await recordChanges([paymentId, 'NEW']);
    const { deliveries: [inFlight] } = await claim();
    await recordChanges([paymentId, 'PROCESSING']);

    expect(await claim()).toEqual({ deliveries: [], parked: 0 });
    expect(await waiting(paymentId)).toEqual([
      { status: 'NEW', due_in_s: LEASE_MS / 1000, in_flight: true },
      { status: 'PROCESSING', due_in_s: 0, in_flight: false },
    ]);

    // Once the attempt's failure is recorded, the change behind it is parked.
    await store.record(subscriptionId, [failed(inFlight.history_id, 60_000)], false, 24);
    expect(await claim()).toEqual({ deliveries: [], parked: 1 });
    expect(await waiting(paymentId)).toEqual([
      { status: 'NEW', due_in_s: 60, in_flight: false },
      { status: 'PROCESSING', due_in_s: 300, in_flight: false },
    ]);
  });

  it('looks at a bounded number of due changes per claim, and says it parked some so that the lane claims again', async () => {
    // 2,500 payments whose first change is failing, each with a later change waiting behind it.
    const payments = Array.from({ length: 2500 }, () => randomUUID());
    await recordChanges(...payments.map((paymentId): [string, PaymentStatus] => [paymentId, 'NEW']));
    await pool.query(`UPDATE push_deliveries SET next_attempt_at = now() + interval '1 hour', attempts = 3 WHERE subscription_id = $1 AND delivered_at IS NULL`, [subscriptionId]);
    await recordChanges(...payments.map((paymentId): [string, PaymentStatus] => [paymentId, 'CONFIRMED']));

    const parked: number[] = [];
    for (let round = 0; round < 5; round++) {
      const answer = await claim();
      expect(answer.deliveries).toEqual([]);
      parked.push(answer.parked);
    }
    expect(parked).toEqual([2000, 500, 0, 0, 0]);
  });
});
