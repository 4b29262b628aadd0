import { randomBytes } from 'node:crypto';
import path from 'node:path';
import IORedis from 'ioredis';
import request from 'supertest';
import { PaymentStatus } from '../../src/events/upvestEvents';
import { batchOf, ProviderEvent, withdrawalEvent } from '../../testkit/paymentEvents';
import { PrivateRedis } from '../support/privateRedis';
import { startServiceFromSources } from '../../testkit/ServiceProcess';
import { createTestDatabase, TestDatabase } from '../support/testDatabase';
import { eventually, providerKeys, signedHeaders, startTestService, TestService } from '../support/testService';

const KILL_AFTER_COMMIT = path.join(__dirname, '../support/faults/killAfterCommit.ts');
const STATUSES: PaymentStatus[] = ['NEW', 'PROCESSING', 'CONFIRMED'];

let redis: PrivateRedis;
let database: TestDatabase;
const redisPrefix = `test-inbox-${process.pid}-${randomBytes(4).toString('hex')}`;
// Sweeps every second, for events older than a second: the gaps close within the test's patience.
const FAST_SWEEPER = { INBOX_SWEEP_AFTER_SECONDS: '1', INBOX_SWEEP_INTERVAL_SECONDS: '1' };

beforeAll(async () => {
  // A Redis of this file's own: the test flushes it.
  redis = await PrivateRedis.start();
  database = await createTestDatabase();
});

afterAll(async () => {
  await redis.stop();
  await database.drop();
});

function apiEnvironment(): Record<string, string> {
  return {
    ROLE: 'api',
    DATABASE_URL: database.url,
    REDIS_URL: redis.url,
    REDIS_PREFIX: redisPrefix,
    MIGRATE_ON_START: 'false',
    UPVEST_WEBHOOK_JWKS: JSON.stringify(providerKeys.jwks),
  };
}

function startWorker(): Promise<TestService> {
  return startTestService({ ROLE: 'worker', REDIS_URL: redis.url, ...FAST_SWEEPER }, { database, redisPrefix });
}

/** NEW, PROCESSING and CONFIRMED of `payments` new withdrawals. */
function lifecycles(payments: number): ProviderEvent[] {
  return Array.from({ length: payments }, () => `f1000000-0000-4000-8000-${randomBytes(6).toString('hex')}`).flatMap((paymentId) =>
    STATUSES.map((status, index) => withdrawalEvent({ paymentId, status, createdAt: `2021-07-21T14:1${index}:00Z` })),
  );
}

function deliver(baseUrl: string, body: string): Promise<request.Response> {
  return request(baseUrl).post('/webhooks/upvest').set(signedHeaders(body)).send(body);
}

async function expectProjectedOnce(worker: TestService, events: ProviderEvent[]): Promise<void> {
  const ids = events.map((event) => event.id);
  await eventually(
    async () => (await worker.prisma.webhookEvent.count({ where: { id: { in: ids }, processedAt: { not: null } } })) === ids.length,
    60000,
    `${ids.length} projected events`,
  );
  expect(await worker.prisma.paymentStatusHistory.count({ where: { eventId: { in: ids } } })).toBe(ids.length);
  const paymentIds = [...new Set(events.map((event) => event.object.id as string))];
  expect(await worker.prisma.withdrawal.count({ where: { id: { in: paymentIds }, status: 'CONFIRMED' } })).toBe(paymentIds.length);
}

describe('the inbox when Redis loses what it held', () => {
  it('projects every acknowledged event exactly once after a FLUSHALL, the api killed before any was projected', async () => {
    const events = lifecycles(200);
    const api = await startServiceFromSources(apiEnvironment());
    let accepted = 0;
    for (let start = 0; start < events.length; start += 50) {
      const response = await deliver(api.baseUrl, batchOf(...events.slice(start, start + 50)));
      expect(response.status).toBe(200);
      accepted += response.body.accepted;
    }
    await api.stop('SIGKILL');
    const flushing = new IORedis(redis.url);
    await flushing.flushall();
    flushing.disconnect();
    expect(accepted).toBe(events.length);

    const worker = await startWorker();
    try {
      await expectProjectedOnce(worker, events);
      const metrics = (await request(worker.metricsUrl).get('')).text;
      expect(Number(/^upvest_inbox_requeued_events_total (\d+)/m.exec(metrics)?.[1])).toBe(events.length);
    } finally {
      await worker.stop();
    }
  });

  it('queues the events of a delivery whose process died between the commit and queueing its job', async () => {
    const events = lifecycles(2);
    const body = batchOf(...events);
    const dying = await startServiceFromSources(apiEnvironment(), [KILL_AFTER_COMMIT]);

    // The provider gets no answer and will retry; the events are committed all the same.
    await expect(deliver(dying.baseUrl, body)).rejects.toThrow(/socket hang up|ECONNRESET/);
    expect(await dying.stop('SIGKILL')).toBeNull();

    const worker = await startWorker();
    try {
      expect(await worker.prisma.webhookEvent.count({ where: { id: { in: events.map((event) => event.id) }, processedAt: null } })).toBe(events.length);
      await expectProjectedOnce(worker, events);
      const retry = await startServiceFromSources(apiEnvironment());
      try {
        expect((await deliver(retry.baseUrl, body)).body).toEqual({ accepted: 0, duplicate: events.length, ignored: 0, quarantined: 0 });
      } finally {
        await retry.stop('SIGTERM');
      }
    } finally {
      await worker.stop();
    }
  });
});
