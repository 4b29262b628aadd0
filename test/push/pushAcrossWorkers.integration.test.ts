import { Pool } from 'pg';
import { PaymentStatus } from '../../src/events/upvestEvents';
import { PushSubscriptions } from '../../src/push/PushSubscriptions';
import { batchOf, withdrawalEvent } from '../../testkit/paymentEvents';
import { PushSubscriberProcess } from '../../testkit/PushSubscriberProcess';
import { ReceivedMessage } from '../../testkit/pushSubscriber';
import { ServiceProcess, startServiceFromSources } from '../../testkit/ServiceProcess';
import { eventually, providerKeys, startTestService, TestService } from '../support/testService';

const STATUSES: PaymentStatus[] = ['NEW', 'PROCESSING', 'CONFIRMED'];

let api: TestService;
let pool: Pool;
let subscriptions: PushSubscriptions;
const processes: Array<{ stop(): Promise<number | null> }> = [];

beforeAll(async () => {
  api = await startTestService({ ROLE: 'api' });
  pool = new Pool({ connectionString: api.database.url, max: 2 });
  subscriptions = new PushSubscriptions(pool);
});

afterAll(async () => {
  await Promise.all(processes.map((process) => process.stop()));
  await pool.end();
  await api.stop();
});

/** A worker in a process of its own, so that the test can kill it like a crash would. */
async function startWorker(): Promise<ServiceProcess> {
  const worker = await startServiceFromSources({
    ROLE: 'worker',
    DATABASE_URL: api.database.url,
    REDIS_PREFIX: api.redisPrefix,
    MIGRATE_ON_START: 'false',
    UPVEST_WEBHOOK_JWKS: JSON.stringify(providerKeys.jwks),
    PUSH_ALLOWED_TARGETS: '127.0.0.1',
    PUSH_POLL_INTERVAL_MS: '100',
    PUSH_TIMEOUT_MS: '2000',
    PUSH_CONCURRENCY_PER_SUBSCRIPTION: '8',
  });
  processes.push(worker);
  return worker;
}

async function subscribe(name: string): Promise<{ subscriber: PushSubscriberProcess; id: string }> {
  const subscriber = await PushSubscriberProcess.start(name);
  processes.push(subscriber);
  const { subscription, secret } = await subscriptions.add({ url: subscriber.url });
  await subscriber.control({ secrets: [secret] });
  return { subscriber, id: subscription.id };
}

/**
 * Sends each status of every payment: the batches of one status all at once, the next status once
 * they are projected (an older status projected after a newer one is no change).
 */
async function deliverConcurrently(paymentIds: string[]): Promise<void> {
  const projectedBefore = await api.projectedEvents();
  for (const [index, status] of STATUSES.entries()) {
    const batches: string[] = [];
    for (let start = 0; start < paymentIds.length; start += 25) {
      const events = paymentIds.slice(start, start + 25).map((paymentId) => withdrawalEvent({ paymentId, status, createdAt: `2021-07-21T14:1${index}:00Z` }));
      batches.push(batchOf(...events));
    }
    const responses = await Promise.all(batches.map((batch) => api.deliver(batch)));
    for (const response of responses) expect(response.status).toBe(200);
    const expected = projectedBefore + paymentIds.length * (index + 1);
    await eventually(async () => (await api.projectedEvents()) === expected, 60000, `the projection of the ${status} events`);
  }
}

/** Every status change recorded, per payment, in the change feed's order. */
async function recordedChanges(): Promise<Map<string, string[]>> {
  const { rows } = await pool.query<{ payment_id: string; event_id: string }>(
    'SELECT payment_id, event_id FROM payment_status_history WHERE status_changed ORDER BY transaction_id, id',
  );
  const changes = new Map<string, string[]>();
  for (const row of rows) changes.set(row.payment_id, [...(changes.get(row.payment_id) ?? []), row.event_id]);
  return changes;
}

/** Per payment, its changes in the order each was first acknowledged. */
function firstAcknowledged(messages: ReceivedMessage[]): Map<string, string[]> {
  const order = new Map<string, string[]>();
  const seen = new Set<string>();
  for (const message of messages) {
    if (seen.has(message.webhookId)) continue;
    seen.add(message.webhookId);
    const paymentId = message.body.data.payment_id;
    order.set(paymentId, [...(order.get(paymentId) ?? []), message.webhookId]);
  }
  return order;
}

async function waitForAll(subscriber: PushSubscriberProcess, expected: number, timeoutMs: number): Promise<ReceivedMessage[]> {
  return eventually(async () => {
    const acknowledged = await subscriber.acknowledged();
    return new Set(acknowledged.map((message) => message.webhookId)).size >= expected && acknowledged;
  }, timeoutMs, `${expected} changes at the subscriber`);
}

const paymentIdsFrom = (prefix: string, count: number) => Array.from({ length: count }, (_, n) => `${prefix}-0000-4000-8000-${String(n).padStart(12, '0')}`);

it('delivers 1,000 concurrent changes through two workers, each once, in order per payment', async () => {
  const [first, second] = await Promise.all([subscribe('first'), subscribe('second')]);
  const workers = await Promise.all([startWorker(), startWorker()]);
  await deliverConcurrently(paymentIdsFrom('a1000000', 334));
  const changes = await recordedChanges();
  const total = [...changes.values()].reduce((sum, ids) => sum + ids.length, 0);
  expect(total).toBe(334 * STATUSES.length);

  for (const { subscriber, id } of [first, second]) {
    const acknowledged = await waitForAll(subscriber, total, 120000);
    expect(acknowledged).toHaveLength(total); // nothing twice
    expect(acknowledged.every((message) => message.verifiedBy.length === 1)).toBe(true);
    expect(firstAcknowledged(acknowledged)).toEqual(changes);
    expect((await subscriptions.find(id)).undelivered).toBe(0);
  }
  // Both workers sent some.
  for (const worker of workers) {
    const metrics = await (await fetch(`${worker.baseUrl}/metrics`)).text();
    const sent = [...metrics.matchAll(/^upvest_push_deliveries_total\{[^}]*\} (\d+)$/gm)].reduce((sum, match) => sum + Number(match[1]), 0);
    expect(sent).toBeGreaterThan(0);
  }
  await Promise.all(workers.map((worker) => worker.stop()));
}, 240_000);

it('loses nothing when a worker is killed mid-delivery', async () => {
  const { subscriber, id } = await subscribe('slow');
  await subscriber.control({ delayMs: 200 });
  const crashing = await startWorker();
  await deliverConcurrently(paymentIdsFrom('b2000000', 100));
  await eventually(async () => (await subscriber.acknowledged()).length >= 30, 60000, 'the first deliveries');
  await crashing.stop('SIGKILL');
  const expected = 100 * STATUSES.length;
  expect(new Set((await subscriber.acknowledged()).map((message) => message.webhookId)).size).toBeLessThan(expected);
  const successor = await startWorker();

  const acknowledged = await waitForAll(subscriber, expected, 120000);
  const changes = await recordedChanges();
  const order = firstAcknowledged(acknowledged);
  for (const [paymentId, ids] of order) expect(ids).toEqual(changes.get(paymentId));
  expect([...order.values()].reduce((sum, ids) => sum + ids.length, 0)).toBe(expected);
  expect((await subscriptions.find(id)).undelivered).toBe(0);
  await successor.stop();
}, 240_000);
