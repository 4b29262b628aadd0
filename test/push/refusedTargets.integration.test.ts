import { Pool } from 'pg';
import { PushSubscriptions } from '../../src/push/PushSubscriptions';
import { batchOf, uuid, withdrawalEvent } from '../../testkit/paymentEvents';
import { PushSubscriberProcess } from '../../testkit/PushSubscriberProcess';
import { eventually, startTestService, TestService } from '../support/testService';

// A transaction open anywhere in the cluster holds the change feed's horizon back (other test files run meanwhile).
jest.setTimeout(180_000);

let service: TestService;
let pool: Pool;
let subscriber: PushSubscriberProcess;

beforeAll(async () => {
  // No PUSH_ALLOWED_TARGETS: loopback, private, link-local and metadata addresses are refused.
  service = await startTestService({ PUSH_POLL_INTERVAL_MS: '100' });
  pool = new Pool({ connectionString: service.database.url, max: 2 });
  subscriber = await PushSubscriberProcess.start('a subscriber on loopback');
});

afterAll(async () => {
  await subscriber.stop();
  await pool.end();
  await service.stop();
});

it('refuses to connect to loopback, link-local (metadata), private addresses and names resolving to them', async () => {
  const subscriptions = new PushSubscriptions(pool);
  const targets = [
    `http://127.0.0.1:${subscriber.port}/hook`,
    `http://localhost:${subscriber.port}/hook`,
    'http://169.254.169.254/latest/meta-data/',
    'http://10.1.2.3/hook',
    `http://[::1]:${subscriber.port}/hook`,
  ];
  const added = await Promise.all(targets.map(async (url) => (await subscriptions.add({ url })).subscription));
  const response = await service.deliver(batchOf(withdrawalEvent({ paymentId: uuid(0x5001), status: 'NEW' })));
  expect(response.status).toBe(200);

  for (const subscription of added) {
    const [delivery] = await eventually(async () => {
      const rows = await subscriptions.deliveries(subscription.id, { undelivered: true, limit: 10 });
      return rows.length === 1 && rows[0].attempts > 0 && rows[0].last_error !== null && rows;
    }, 90000, `the refused attempt to ${subscription.url}`);
    expect(delivery.last_error).toMatch(/^refused_target: /);
    expect(delivery.delivered_at).toBeNull();
  }
  expect((await subscriber.received()).count).toBe(0);
  const metrics = await (await fetch(service.metricsUrl)).text();
  for (const subscription of added) {
    expect(metrics).toContain(`upvest_push_failures_total{subscription="${subscription.id}",reason="refused_target"} 1`);
  }
});
