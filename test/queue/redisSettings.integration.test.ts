import request from 'supertest';
import { PrivateRedis } from '../support/privateRedis';
import { eventually, startTestService, TestService } from '../support/testService';

// BullMQ warns on the console itself when it connects to such a Redis; the service's own report is what is tested.
beforeAll(() => {
  jest.spyOn(console, 'warn').mockImplementation(() => undefined);
});

describe('a Redis that may evict keys', () => {
  let redis: PrivateRedis;
  let worker: TestService;
  let api: TestService;

  beforeAll(async () => {
    redis = await PrivateRedis.start(['--maxmemory', '64mb', '--maxmemory-policy', 'allkeys-lru']);
    const production = { NODE_ENV: 'production', REDIS_URL: redis.url };
    worker = await startTestService({ ...production, ROLE: 'worker' });
    api = await startTestService({ ...production, ROLE: 'api' }, { database: worker.database, redisPrefix: worker.redisPrefix });
  });

  afterAll(async () => {
    await api.stop();
    await worker.stop();
    await redis.stop();
  });

  it("fails the worker's readiness in production and says why in a metric", async () => {
    const readiness = await request(worker.baseUrl).get('/readyz');

    expect(readiness.status).toBe(503);
    expect(readiness.body.checks.redis).toBe('maxmemory-policy is allkeys-lru; BullMQ requires noeviction');
    const metrics = await eventually(async () => {
      const text = (await request(worker.metricsUrl).get('')).text;
      return text.includes('upvest_redis_maxmemory_policy{policy="allkeys-lru"} 1') ? text : undefined;
    });
    expect(metrics).not.toContain('policy="noeviction"');
  });

  it("leaves the api's readiness alone: its answers need only Postgres", async () => {
    expect((await request(api.baseUrl).get('/readyz')).body).toEqual({ status: 'ready', checks: { postgres: 'ok' } });
  });
});

describe('a Redis without CONFIG, as managed services run it', () => {
  it('keeps the worker ready and reports the policy as unknown', async () => {
    const redis = await PrivateRedis.start(['--rename-command', 'CONFIG', '']);
    const worker = await startTestService({ NODE_ENV: 'production', ROLE: 'worker', REDIS_URL: redis.url });
    try {
      expect((await request(worker.baseUrl).get('/readyz')).body).toEqual({ status: 'ready', checks: { postgres: 'ok', redis: 'ok' } });
      expect((await request(worker.metricsUrl).get('')).text).toContain('upvest_redis_maxmemory_policy{policy="unknown"} 1');
    } finally {
      await worker.stop();
      await redis.stop();
    }
  });
});
