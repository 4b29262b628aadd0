import request from 'supertest';
import { batchOf, ProviderEvent, withdrawalEvent } from '../../testkit/paymentEvents';
import { PrivateRedis } from '../support/privateRedis';
import { eventually, startTestService, TestService } from '../support/testService';

let redis: PrivateRedis;
let api: TestService;
let worker: TestService;

beforeAll(async () => {
  redis = await PrivateRedis.start();
  const sweeper = { INBOX_SWEEP_AFTER_SECONDS: '1', INBOX_SWEEP_INTERVAL_SECONDS: '1' };
  api = await startTestService({ ROLE: 'api', REDIS_URL: redis.url, INGEST_TIMEOUT_MS: '500' });
  worker = await startTestService({ ROLE: 'worker', REDIS_URL: redis.url, ...sweeper }, { database: api.database, redisPrefix: api.redisPrefix });
});

afterAll(async () => {
  redis.thaw();
  await worker.stop();
  await api.stop();
  await redis.stop();
});

/** upvest_dependency_errors_total{dependency="redis"} as a service's metrics endpoint shows it. */
async function redisErrorCount(service: TestService): Promise<number> {
  const text = (await request(service.metricsUrl).get('')).text;
  return Number(/^upvest_dependency_errors_total\{dependency="redis"\} (\d+)/m.exec(text)?.[1] ?? 0);
}

async function projected(event: ProviderEvent): Promise<boolean> {
  return (await worker.prisma.webhookEvent.count({ where: { id: event.id, processedAt: { not: null } } })) === 1;
}

describe('when Redis is unavailable', () => {
  it('answers 200 while Redis is down, because the events are committed in Postgres, and projects them once it is back', async () => {
    const before = withdrawalEvent({ paymentId: 'd1f0c2d4-1111-4b2a-9c3d-000000000001' });
    expect((await api.deliver(batchOf(before))).status).toBe(200);
    await eventually(() => projected(before));

    await redis.stop();
    const during = withdrawalEvent({ paymentId: 'd1f0c2d4-1111-4b2a-9c3d-000000000002', status: 'PROCESSING' });
    const response = await api.deliver(batchOf(during));

    expect(response.status).toBe(200);
    expect(response.body).toEqual({ accepted: 1, duplicate: 0, ignored: 0, quarantined: 0 });
    // What the answer needs is there; the worker cannot work without Redis.
    expect((await request(api.baseUrl).get('/readyz')).body).toEqual({ status: 'ready', checks: { postgres: 'ok' } });
    expect((await request(worker.baseUrl).get('/readyz')).status).toBe(503);
    await eventually(async () => (await redisErrorCount(api)) > 0, 5000, 'the Redis error counted');
    expect(await projected(during)).toBe(false);

    await redis.start();
    await eventually(() => projected(during), 30000, 'the event committed while Redis was down');
    expect((await worker.prisma.withdrawal.findUniqueOrThrow({ where: { id: during.object.id as string } })).status).toBe('PROCESSING');
    await eventually(async () => (await request(worker.baseUrl).get('/readyz')).status === 200);
  });

  it('answers 200 at once when Redis hangs instead of refusing connections', async () => {
    redis.freeze();
    try {
      const event = withdrawalEvent();
      const startedAt = Date.now();
      const response = await api.deliver(batchOf(event));

      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({ accepted: 1 });
      // Well below the producer connection's command timeout (5 s), which an answer that waited for Redis would take.
      expect(Date.now() - startedAt).toBeLessThan(4000);
    } finally {
      redis.thaw();
    }
  });

  it('loses no acknowledged event when Redis without persistence is killed with -9 and comes back empty', async () => {
    const events: ProviderEvent[] = [];
    for (let delivery = 0; delivery < 30; delivery += 1) {
      if (delivery === 10) await redis.crash();
      if (delivery === 20) await redis.start();
      const batch = Array.from({ length: 10 }, () => withdrawalEvent({ paymentId: crypto.randomUUID() }));
      const response = await api.deliver(batchOf(...batch));
      expect(response.status).toBe(200);
      expect(response.body.accepted).toBe(batch.length);
      events.push(...batch);
    }

    const ids = events.map((event) => event.id);
    await eventually(async () => (await worker.prisma.webhookEvent.count({ where: { id: { in: ids }, processedAt: { not: null } } })) === ids.length, 60000, 'every event');
    expect(await worker.prisma.paymentStatusHistory.count({ where: { eventId: { in: ids } } })).toBe(ids.length);
    expect(await worker.prisma.withdrawal.count({ where: { id: { in: events.map((event) => event.object.id as string) } } })).toBe(events.length);
  });
});
