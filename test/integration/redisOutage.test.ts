import request from 'supertest';
import { batchOf, withdrawalEvent } from '../support/paymentEvents';
import { PrivateRedis } from '../support/privateRedis';
import { eventually, startTestService, TestService } from '../support/testService';

let redis: PrivateRedis;
let harness: TestService;

beforeAll(async () => {
  redis = await PrivateRedis.start();
  harness = await startTestService({ REDIS_URL: redis.url, INGEST_TIMEOUT_MS: '500', RETRY_AFTER_SECONDS: '7' });
});

afterAll(async () => {
  redis.thaw();
  await harness.stop();
  await redis.stop();
});

/** upvest_dependency_errors_total{dependency="redis"} as the service's metrics endpoint shows it. */
async function redisErrorCount(): Promise<number> {
  const text = (await request(harness.metricsUrl).get('')).text;
  return Number(/^upvest_dependency_errors_total\{dependency="redis"\} (\d+)/m.exec(text)?.[1] ?? 0);
}

describe('when Redis is unavailable', () => {
  it('answers 503 with Retry-After within the ingest timeout while Redis is down, and 200 once it is back', async () => {
    const first = withdrawalEvent({ paymentId: 'd1f0c2d4-1111-4b2a-9c3d-000000000001' });
    expect((await harness.deliver(batchOf(first))).status).toBe(200);

    await redis.stop();
    const body = batchOf(withdrawalEvent({ paymentId: 'd1f0c2d4-1111-4b2a-9c3d-000000000002', status: 'PROCESSING' }));
    const startedAt = Date.now();
    const refused = await harness.deliver(body);

    expect(refused.status).toBe(503);
    expect(refused.headers['retry-after']).toBe('7');
    expect(refused.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(Date.now() - startedAt).toBeLessThan(2000);
    expect((await request(harness.baseUrl).get('/readyz')).status).toBe(503);

    await redis.start();
    const retried = await eventually(async () => {
      const response = await harness.deliver(body);
      return response.status === 200 ? response : undefined;
    });
    expect(retried.body).toMatchObject({ accepted: 1 });
    await eventually(async () => harness.prisma.withdrawal.findUnique({ where: { id: 'd1f0c2d4-1111-4b2a-9c3d-000000000002' } }));
  });

  it('answers 503 in bounded time when Redis hangs instead of refusing connections', async () => {
    const before = await redisErrorCount();
    redis.freeze();
    try {
      const startedAt = Date.now();
      const response = await harness.deliver(batchOf(withdrawalEvent()));

      expect(response.status).toBe(503);
      expect(Date.now() - startedAt).toBeLessThan(1500);
      expect(await redisErrorCount()).toBeGreaterThan(before);
    } finally {
      redis.thaw();
    }
  });
});
