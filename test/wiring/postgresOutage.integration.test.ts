import { Queue } from 'bullmq';
import IORedis from 'ioredis';
import { Client } from 'pg';
import request from 'supertest';
import { EVENTS_QUEUE_NAME } from '../../src/queue/redisKeys';
import { batchOf, withdrawalEvent } from '../../testkit/paymentEvents';
import { TcpProxy } from '../support/tcpProxy';
import { createTestDatabase, TestDatabase } from '../support/testDatabase';
import { deleteRedisKeys, eventually, startTestService, TestService } from '../support/testService';

let database: TestDatabase;
let proxy: TcpProxy;
/** Reaches Postgres directly. */
let api: TestService;
/** Reach Postgres through the proxy that the tests cut. */
let apiBehindProxy: TestService;
let workerBehindProxy: TestService;
let redis: IORedis;
let queue: Queue;
const redisPrefix = `test-pg-${process.pid}`;

beforeAll(async () => {
  database = await createTestDatabase();
  proxy = await TcpProxy.start(5432);
  const viaProxy = new URL(database.url);
  viaProxy.port = String(proxy.port);
  const ingest = { INGEST_TIMEOUT_MS: '1000', RETRY_AFTER_SECONDS: '7' };
  api = await startTestService({ ROLE: 'api', ...ingest }, { database, redisPrefix });
  apiBehindProxy = await startTestService({ ROLE: 'api', DATABASE_URL: viaProxy.toString(), ...ingest }, { database, redisPrefix });
  workerBehindProxy = await startTestService({ ROLE: 'worker', DATABASE_URL: viaProxy.toString() }, { database, redisPrefix });
  redis = new IORedis();
  queue = new Queue(EVENTS_QUEUE_NAME, { connection: redis, prefix: redisPrefix });
});

afterAll(async () => {
  proxy.restore();
  for (const service of [workerBehindProxy, apiBehindProxy, api]) await service.stop();
  await queue.close();
  await redis.quit();
  await proxy.close();
  await deleteRedisKeys(redisPrefix);
  await database.drop();
});

async function storedCount(ids: string[]): Promise<number> {
  return api.prisma.webhookEvent.count({ where: { id: { in: ids } } });
}

function postgresErrors(text: string): number {
  return Number(/^upvest_dependency_errors_total\{dependency="postgres"\} (\d+)/m.exec(text)?.[1] ?? 0);
}

describe('when Postgres is unavailable', () => {
  it('answers 503 with Retry-After, never 200, while the api cannot reach Postgres, and commits nothing', async () => {
    const events = [withdrawalEvent(), withdrawalEvent({ status: 'PROCESSING' })];
    const body = batchOf(...events);
    proxy.cut();
    try {
      for (let attempt = 0; attempt < 3; attempt += 1) {
        const startedAt = Date.now();
        const refused = await apiBehindProxy.deliver(body);

        expect(refused.status).toBe(503);
        expect(refused.headers['retry-after']).toBe('7');
        expect(refused.headers['content-type']).toMatch(/application\/problem\+json/);
        expect(Date.now() - startedAt).toBeLessThan(5000);
      }
      const readiness = await request(apiBehindProxy.baseUrl).get('/readyz');
      expect(readiness.status).toBe(503);
      expect(readiness.body.checks.postgres).not.toBe('ok');
      expect(postgresErrors((await request(apiBehindProxy.metricsUrl).get('')).text)).toBeGreaterThanOrEqual(3);
    } finally {
      proxy.restore();
    }
    expect(await storedCount(events.map((event) => event.id))).toBe(0);

    const retried = await eventually(async () => {
      const response = await apiBehindProxy.deliver(body);
      return response.status === 200 ? response : undefined;
    });
    expect(retried.body).toEqual({ accepted: 2, duplicate: 0, ignored: 0, quarantined: 0 });
  });

  it('answers 503 when Postgres takes longer than INGEST_TIMEOUT_MS; what it commits later counts as a duplicate on the retry', async () => {
    const events = [withdrawalEvent(), withdrawalEvent()];
    const body = batchOf(...events);
    const locker = new Client({ connectionString: database.url });
    await locker.connect();
    try {
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE webhook_events IN ACCESS EXCLUSIVE MODE');
      const startedAt = Date.now();
      const refused = await api.deliver(body);

      expect(refused.status).toBe(503);
      expect(Date.now() - startedAt).toBeLessThan(5000);
    } finally {
      await locker.query('ROLLBACK');
      await locker.end();
    }

    const retried = await api.deliver(body);
    expect(retried.status).toBe(200);
    expect(retried.body.accepted + retried.body.duplicate).toBe(2);
    expect(await storedCount(events.map((event) => event.id))).toBe(2);
  });

  it('keeps the committed events while the worker cannot reach Postgres, and projects them once it is back', async () => {
    const paymentId = 'e1f0c2d4-1111-4b2a-9c3d-000000000001';
    const events = [withdrawalEvent({ paymentId, status: 'NEW' }), withdrawalEvent({ paymentId, status: 'PROCESSING', createdAt: '2021-07-21T14:11:00Z' })];
    proxy.cut();
    try {
      const response = await api.deliver(batchOf(...events));

      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({ accepted: 2 });
      const { jobId } = await api.prisma.webhookEvent.findUniqueOrThrow({ where: { id: events[0].id } });
      const retried = await eventually(async () => {
        const job = await queue.getJob(jobId as string);
        return job !== undefined && job.attemptsMade >= 2 ? job : undefined;
      });
      expect(retried.failedReason).toMatch(/reach database|connect|terminated|timeout|econnreset|econnrefused/i);
      expect(await api.prisma.withdrawal.findUnique({ where: { id: paymentId } })).toBeNull();
    } finally {
      proxy.restore();
    }

    const ids = events.map((event) => event.id);
    await eventually(async () => (await api.prisma.webhookEvent.count({ where: { id: { in: ids }, processedAt: { not: null } } })) === 2, 20000);
    const row = await api.prisma.withdrawal.findUniqueOrThrow({ where: { id: paymentId } });
    expect(row.status).toBe('PROCESSING');
    expect(await queue.getJobCounts('failed')).toEqual({ failed: 0 });
    const inbox = await api.prisma.webhookEvent.findUniqueOrThrow({ where: { id: events[1].id } });
    expect(inbox.attempts).toBeGreaterThanOrEqual(1);
  });
});

describe('when the worker cannot reach Postgres for longer than its jobs have attempts', () => {
  const prefix = `test-pg-split-${process.pid}`;
  let splitApi: TestService;
  let splitWorker: TestService;
  let splitQueue: Queue;

  beforeAll(async () => {
    const viaProxy = new URL(database.url);
    viaProxy.port = String(proxy.port);
    // The api sets the attempts of the jobs it queues (JOB_ATTEMPTS), the worker those it splits off.
    splitApi = await startTestService({ ROLE: 'api', JOB_ATTEMPTS: '2' }, { database, redisPrefix: prefix });
    splitWorker = await startTestService({ ROLE: 'worker', DATABASE_URL: viaProxy.toString(), JOB_ATTEMPTS: '2' }, { database, redisPrefix: prefix });
    splitQueue = new Queue(EVENTS_QUEUE_NAME, { connection: redis, prefix });
  });

  afterAll(async () => {
    proxy.restore();
    await splitWorker.stop();
    await splitApi.stop();
    await splitQueue.close();
    await deleteRedisKeys(prefix);
  });

  it('fails the events for good one by one, each in a job of its own that an operator retries', async () => {
    const events = [withdrawalEvent(), withdrawalEvent()];
    proxy.cut();
    try {
      expect((await splitApi.deliver(batchOf(...events))).body).toMatchObject({ accepted: 2 });
      const failed = await eventually(async () => {
        const jobs = await splitQueue.getFailed();
        return jobs.length === 2 ? jobs : undefined;
      }, 20000);
      expect(failed.map((job) => job.id).sort()).toEqual(events.map((event) => event.id.toLowerCase()).sort());
      expect(failed.map((job) => job.name)).toEqual(['WITHDRAWAL.NEW', 'WITHDRAWAL.NEW']);
    } finally {
      proxy.restore();
    }

    for (const job of await splitQueue.getFailed()) await job.retry('failed', { resetAttemptsMade: true });
    const ids = events.map((event) => event.id);
    await eventually(async () => (await api.prisma.webhookEvent.count({ where: { id: { in: ids }, processedAt: { not: null } } })) === 2, 20000);
  });
});
