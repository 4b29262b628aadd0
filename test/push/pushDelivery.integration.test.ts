import { PaymentStatus } from '../../src/events/upvestEvents';
import { PushSubscriptions } from '../../src/push/PushSubscriptions';
import { batchOf, directDebitEvent, uuid, withdrawalEvent } from '../../testkit/paymentEvents';
import { PushSubscriberProcess } from '../../testkit/PushSubscriberProcess';
import { ReceivedMessage } from '../../testkit/pushSubscriber';
import { Pool } from 'pg';
import { eventually, startTestService, TestService } from '../support/testService';

// Retries come after 5 to 10 s, then 10 to 20 s, and a transaction open anywhere in the cluster holds the change
// feed's horizon back (other test files run meanwhile): the tests wait longer than the default.
jest.setTimeout(180_000);

let service: TestService;
let pool: Pool;
let subscriptions: PushSubscriptions;
const subscribers: PushSubscriberProcess[] = [];

beforeAll(async () => {
  service = await startTestService({ PUSH_ALLOWED_TARGETS: '127.0.0.1,::1', PUSH_POLL_INTERVAL_MS: '100' });
  pool = new Pool({ connectionString: service.database.url, max: 2 });
  subscriptions = new PushSubscriptions(pool);
});

afterAll(async () => {
  await Promise.all(subscribers.map((subscriber) => subscriber.stop()));
  await pool.end();
  await service.stop();
});

async function startSubscriber(name: string, port?: number): Promise<PushSubscriberProcess> {
  const subscriber = await PushSubscriberProcess.start(name, { port });
  subscribers.push(subscriber);
  return subscriber;
}

/** A subscriber that is sent the changes matching `filters`, and verifies them with the subscription's secret. */
async function subscribe(name: string, filters: Parameters<PushSubscriptions['add']>[0] extends infer T ? Omit<T & object, 'url'> : never = {}) {
  const subscriber = await startSubscriber(name);
  const { subscription, secret } = await subscriptions.add({ url: subscriber.url, ...filters });
  await subscriber.control({ secrets: [secret] });
  return { subscriber, subscription, secret };
}

let deliveredEvents = 0;

/**
 * Delivers a batch and waits for its projection. Batches projected concurrently may commit in either order, and the
 * feed (so the push) follows the commits: waiting keeps a payment's changes in the order the tests deliver them.
 */
async function deliver(...events: unknown[]): Promise<void> {
  const response = await service.deliver(batchOf(...events));
  expect(response.status).toBe(200);
  deliveredEvents += events.length;
  await eventually(async () => (await service.projectedEvents()) >= deliveredEvents, 60000, 'the projection of the batch');
}

/** The payment's statuses in the order its changes were acknowledged. */
function statusesOf(messages: ReceivedMessage[], paymentId: string): string[] {
  return messages.filter((message) => message.body.data.payment_id === paymentId).map((message) => message.body.data.status);
}

const at = (minute: number) => `2021-07-21T14:${String(minute).padStart(2, '0')}:00Z`;

describe('push to subscribers', () => {
  it('sends exactly the changes that match each subscription, signed as Standard Webhooks define', async () => {
    const confirmedWithdrawals = await subscribe('confirmed withdrawals', { payment_kinds: ['WITHDRAWAL'], statuses: ['CONFIRMED'] });
    const everything = await subscribe('everything');
    const withdrawal = uuid(0x1001);
    const directDebit = uuid(0x1002);
    await deliver(
      withdrawalEvent({ paymentId: withdrawal, status: 'NEW', createdAt: at(10) }),
      withdrawalEvent({ paymentId: withdrawal, status: 'PROCESSING', createdAt: at(11) }),
      directDebitEvent({ paymentId: directDebit, status: 'NEW', createdAt: at(10) }),
    );
    await deliver(withdrawalEvent({ paymentId: withdrawal, status: 'CONFIRMED', createdAt: at(12) }), directDebitEvent({ paymentId: directDebit, status: 'CONFIRMED', createdAt: at(12) }));

    const all = await eventually(async () => {
      const acknowledged = await everything.subscriber.acknowledged();
      return acknowledged.length >= 5 && acknowledged;
    }, 90000, 'every change at the subscriber of everything');
    expect(statusesOf(all, withdrawal)).toEqual(['NEW', 'PROCESSING', 'CONFIRMED']);
    expect(statusesOf(all, directDebit)).toEqual(['NEW', 'CONFIRMED']);
    const confirmed = await eventually(async () => {
      const acknowledged = await confirmedWithdrawals.subscriber.acknowledged();
      return acknowledged.length >= 1 && acknowledged;
    }, 90000, 'the confirmed withdrawal');

    expect(confirmed).toHaveLength(1);
    const [message] = confirmed;
    expect(message.verifiedBy).toEqual([0]);
    expect(message.webhookId).toBe(message.body.data.event_id);
    expect(Number(message.webhookTimestamp)).toBeGreaterThan(Date.now() / 1000 - 600);
    expect(message.body).toEqual({
      type: 'payment.status_changed',
      timestamp: message.body.data.recorded_at,
      data: expect.objectContaining({
        payment_kind: 'WITHDRAWAL',
        payment_id: withdrawal,
        previous_status: 'PROCESSING',
        status: 'CONFIRMED',
        event_type: 'WITHDRAWAL.CONFIRMED',
        source: 'webhook',
        payment: expect.objectContaining({ id: withdrawal, status: 'CONFIRMED', amount: '200.00', currency: 'EUR' }),
      }),
    });
    // Nothing else arrives later either: the other changes were dispatched with the confirmed one.
    const after = await subscriptions.find(confirmedWithdrawals.subscription.id);
    expect(after.undelivered).toBe(0);
    expect((await confirmedWithdrawals.subscriber.received()).count).toBe(1);
  });

  it('holds back only the later changes of the payment whose change the subscriber refuses, and only at that subscriber', async () => {
    const failing = await subscribe('refuses one change');
    const healthy = await subscribe('takes everything');
    const stuck = uuid(0x2001);
    const other = uuid(0x2002);
    const refusedEventId = uuid(0x2f01);
    await failing.subscriber.control({ failEventIds: [refusedEventId] });
    await deliver(withdrawalEvent({ paymentId: stuck, status: 'NEW', createdAt: at(10) }), withdrawalEvent({ paymentId: other, status: 'NEW', createdAt: at(10) }));
    await deliver(withdrawalEvent({ id: refusedEventId, paymentId: stuck, status: 'PROCESSING', createdAt: at(11) }));
    await deliver(withdrawalEvent({ paymentId: stuck, status: 'CONFIRMED', createdAt: at(12) }), withdrawalEvent({ paymentId: other, status: 'CONFIRMED', createdAt: at(12) }));

    await eventually(async () => (await healthy.subscriber.acknowledged()).length >= 5, 90000, 'every change at the healthy subscriber');
    await eventually(async () => statusesOf(await failing.subscriber.acknowledged(), other).length === 2, 90000, "the other payment's changes");
    const refusedOnce = await eventually(async () => {
      const [delivery] = (await subscriptions.deliveries(failing.subscription.id, { undelivered: true, limit: 10 })).filter((row) => row.event_id === refusedEventId);
      return delivery?.last_response_code === 500 && delivery;
    }, 90000, 'the refused attempt');
    expect(refusedOnce.last_error).toMatch(/^status_5xx: HTTP 500/);
    expect(refusedOnce.next_attempt_at).not.toBeNull();
    // The later change of the stuck payment was never sent.
    const received = (await failing.subscriber.received()).received;
    expect(received.filter((message) => message.body.data.payment_id === stuck).map((message) => message.body.data.status)).toEqual(['NEW', 'PROCESSING']);
    expect(statusesOf(await healthy.subscriber.acknowledged(), stuck)).toEqual(['NEW', 'PROCESSING', 'CONFIRMED']);
    expect((await subscriptions.find(failing.subscription.id)).undelivered).toBe(2);

    // Once the subscriber takes it, the retry delivers it, then the next change, in order.
    await failing.subscriber.control({ failEventIds: [] });
    await eventually(async () => statusesOf(await failing.subscriber.acknowledged(), stuck).length === 3, 60000, 'the retry and the held change');
    expect(statusesOf(await failing.subscriber.acknowledged(), stuck)).toEqual(['NEW', 'PROCESSING', 'CONFIRMED']);
    const after = await subscriptions.find(failing.subscription.id);
    expect(after.undelivered).toBe(0);
    // The position moved over the delivered changes, the last of them included.
    const { rows } = await pool.query<{ position: string }>(
      "SELECT transaction_id::text || '.' || id AS position FROM payment_status_history WHERE payment_id = $1 AND status = 'CONFIRMED'",
      [stuck],
    );
    const [transaction, id] = after.position.split('.').map(BigInt);
    const [lastTransaction, lastId] = rows[0].position.split('.').map(BigInt);
    expect(transaction > lastTransaction || (transaction === lastTransaction && id >= lastId)).toBe(true);
  });

  it('delivers everything in order to a subscriber that was down for a while', async () => {
    const { subscriber, subscription, secret } = await subscribe('down for a while');
    await subscriber.stop();
    const payments = [uuid(0x3001), uuid(0x3002), uuid(0x3003)];
    const statuses: PaymentStatus[] = ['NEW', 'PROCESSING', 'CONFIRMED'];
    for (const [index, status] of statuses.entries()) {
      await deliver(...payments.map((paymentId) => withdrawalEvent({ paymentId, status, createdAt: at(10 + index) })));
    }
    const failed = await eventually(async () => {
      const rows = (await subscriptions.deliveries(subscription.id, { undelivered: true, limit: 50 })).filter((row) => row.last_error !== null);
      return rows.length === payments.length && rows;
    }, 90000, 'the failed first attempt of each payment');
    // Only the first change of each payment is tried; the later ones wait behind it.
    for (const row of failed) {
      expect(row.status).toBe('NEW');
      expect(row.last_error).toMatch(/^connection: /);
    }

    const back = await startSubscriber('back again', subscriber.port);
    await back.control({ secrets: [secret] });
    const acknowledged = await eventually(async () => {
      const messages = await back.acknowledged();
      return messages.length >= 9 && messages;
    }, 90000, 'everything after the subscriber came back');
    for (const paymentId of payments) expect(statusesOf(acknowledged, paymentId)).toEqual(statuses);
    expect((await subscriptions.find(subscription.id)).undelivered).toBe(0);
  });

  it('signs with both secrets during a rotation, then with the new one only', async () => {
    const { subscriber, subscription, secret: previous } = await subscribe('rotating');
    const { secret: current } = await subscriptions.rotateSecret(subscription.id, 3600);
    expect(current).toMatch(/^whsec_/);
    expect(current).not.toBe(previous);
    await subscriber.control({ secrets: [previous, current] });
    const paymentId = uuid(0x4001);
    await deliver(withdrawalEvent({ paymentId, status: 'NEW', createdAt: at(10) }));
    const [during] = await eventually(async () => {
      const messages = await subscriber.acknowledged();
      return messages.length >= 1 && messages;
    }, 90000, 'the change during the overlap');
    expect(during.signatures).toBe(2);
    expect(during.verifiedBy).toEqual([0, 1]);

    await subscriptions.rotateSecret(subscription.id, 0);
    const { secret: next } = await subscriptions.rotateSecret(subscription.id, 0);
    await subscriber.control({ secrets: [previous, current, next] });
    await deliver(withdrawalEvent({ paymentId, status: 'CONFIRMED', createdAt: at(11) }));
    const after = await eventually(async () => {
      const messages = await subscriber.acknowledged();
      return messages.length >= 2 && messages[1];
    }, 90000, 'the change after the overlap');
    expect(after.signatures).toBe(1);
    expect(after.verifiedBy).toEqual([2]);
  });

  it('marks a subscription failing once a change has failed for PUSH_FAILING_AFTER_HOURS, and active again when it is delivered', async () => {
    const { subscriber, subscription } = await subscribe('failing for a day');
    const refusedEventId = uuid(0x6f01);
    await subscriber.control({ failEventIds: [refusedEventId] });
    await deliver(withdrawalEvent({ id: refusedEventId, paymentId: uuid(0x6001), status: 'NEW', createdAt: at(10) }));
    await eventually(async () => (await subscriptions.deliveries(subscription.id, { undelivered: true, limit: 1 }))[0]?.last_response_code === 500, 90000, 'the refused attempt');
    // As if it had been failing for a day: its next attempt is due now.
    await pool.query(
      "UPDATE push_deliveries SET first_attempt_at = now() - interval '25 hours', next_attempt_at = now() WHERE subscription_id = $1",
      [subscription.id],
    );
    const failing = await eventually(async () => {
      const found = await subscriptions.find(subscription.id);
      return found.state === 'failing' && found;
    }, 90000, 'the failing state');
    expect(failing.failing_since).not.toBeNull();
    const metrics = await (await fetch(service.metricsUrl)).text();
    expect(metrics).toContain(`upvest_push_subscription_failing{subscription="${subscription.id}"} 1`);
    expect(Number(new RegExp(`upvest_push_oldest_undelivered_seconds\\{subscription="${subscription.id}"\\} ([0-9.e+]+)`).exec(metrics)?.[1])).toBeGreaterThan(0);

    await subscriber.control({ failEventIds: [] });
    await pool.query('UPDATE push_deliveries SET next_attempt_at = now() WHERE subscription_id = $1 AND delivered_at IS NULL', [subscription.id]);
    const recovered = await eventually(async () => {
      const found = await subscriptions.find(subscription.id);
      return found.state === 'active' && found;
    }, 90000, 'the active state');
    expect(recovered).toMatchObject({ failing_since: null, undelivered: 0 });
    expect(await (await fetch(service.metricsUrl)).text()).toContain(`upvest_push_subscription_failing{subscription="${subscription.id}"} 0`);
  });

  it('sends the changes since a time again, in order, with the same webhook-ids, on a replay', async () => {
    const { subscriber, subscription } = await subscribe('replaying');
    const paymentId = uuid(0x7001);
    await deliver(withdrawalEvent({ paymentId, status: 'NEW', createdAt: at(10) }));
    await deliver(withdrawalEvent({ paymentId, status: 'CONFIRMED', createdAt: at(11) }));
    const first = await eventually(async () => {
      const messages = await subscriber.acknowledged();
      return messages.length >= 2 && messages;
    }, 90000, 'the two changes');
    const replayed = await subscriptions.replaySince(subscription.id, first[0].body.data.recorded_at as string);
    expect(replayed.position).toBe(replayed.dispatched);
    const again = await eventually(async () => {
      const messages = await subscriber.acknowledged();
      return messages.length >= 4 && messages;
    }, 90000, 'the replayed changes');
    expect(again.map((message) => message.webhookId)).toEqual([first[0].webhookId, first[1].webhookId, first[0].webhookId, first[1].webhookId]);
    expect(statusesOf(again, paymentId)).toEqual(['NEW', 'CONFIRMED', 'NEW', 'CONFIRMED']);
  });

  it('sends nothing to a disabled subscription, and its changes once it is enabled again', async () => {
    const { subscriber, subscription } = await subscribe('disabled a while');
    await subscriptions.disable(subscription.id);
    const paymentId = uuid(0x8001);
    await deliver(withdrawalEvent({ paymentId, status: 'NEW', createdAt: at(10) }));
    await eventually(async () => (await service.projectedEvents()) > 0 && (await pool.query('SELECT 1 FROM payment_status_history WHERE payment_id = $1', [paymentId])).rowCount === 1, 90000, 'the projection');
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect((await subscriber.received()).count).toBe(0);
    await subscriptions.enable(subscription.id);
    await eventually(async () => statusesOf(await subscriber.acknowledged(), paymentId).length === 1, 90000, 'the change after enabling');
  });
});
