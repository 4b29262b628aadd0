import { Queue } from 'bullmq';
import IORedis from 'ioredis';
import { EVENTS_QUEUE_NAME } from '../../src/queue/jobs';
import { batchOf, withdrawalEvent } from '../support/paymentEvents';
import { TcpProxy } from '../support/tcpProxy';
import { createTestDatabase, TestDatabase } from '../support/testDatabase';
import { deleteRedisKeys, eventually, startTestService, TestService } from '../support/testService';

let database: TestDatabase;
let proxy: TcpProxy;
let harness: TestService;
let redis: IORedis;
let queue: Queue;

beforeAll(async () => {
  database = await createTestDatabase();
  proxy = await TcpProxy.start(5432);
  const viaProxy = new URL(database.url);
  viaProxy.port = String(proxy.port);
  harness = await startTestService({ DATABASE_URL: viaProxy.toString() }, { database, redisPrefix: `test-pg-${process.pid}` });
  redis = new IORedis();
  queue = new Queue(EVENTS_QUEUE_NAME, { connection: redis, prefix: harness.redisPrefix });
});

afterAll(async () => {
  proxy.restore();
  await harness.stop();
  await queue.obliterate({ force: true });
  await queue.close();
  await redis.quit();
  await proxy.close();
  await deleteRedisKeys(harness.redisPrefix);
  await database.drop();
});

describe('when Postgres is unavailable during processing', () => {
  it('keeps accepting deliveries, retries the jobs with back-off and projects them once it is back', async () => {
    const paymentId = 'e1f0c2d4-1111-4b2a-9c3d-000000000001';
    const events = [withdrawalEvent({ paymentId, status: 'NEW' }), withdrawalEvent({ paymentId, status: 'PROCESSING', createdAt: '2021-07-21T14:11:00Z' })];
    proxy.cut();

    const response = await harness.deliver(batchOf(...events));

    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ accepted: 2 });
    const retried = await eventually(async () => {
      const job = await queue.getJob(events[0].id);
      return job !== undefined && job.attemptsMade >= 2 ? job : undefined;
    });
    expect(retried.failedReason).toMatch(/reach database|connect|terminated/i);
    expect(await harness.prisma.withdrawal.findUnique({ where: { id: paymentId } })).toBeNull();

    proxy.restore();

    await eventually(async () => (await harness.prisma.webhookEvent.count()) === 2, 20000);
    const row = await harness.prisma.withdrawal.findUniqueOrThrow({ where: { id: paymentId } });
    expect(row.status).toBe('PROCESSING');
    expect(await queue.getJobCounts('failed')).toEqual({ failed: 0 });
  });

  it('fails a job that can never succeed for good, keeping it visible with its reason', async () => {
    const job = await queue.add('WITHDRAWAL.NEW', { event: { type: 'WITHDRAWAL.NEW', id: 'not-a-uuid' }, receivedAt: new Date().toISOString(), requestId: 'test' }, { attempts: 5 });

    await eventually(async () => (await queue.getJobState(job.id as string)) === 'failed');
    const failed = await queue.getJob(job.id as string);

    expect(failed?.attemptsStarted).toBe(1);
    expect(failed?.failedReason).toMatch(/not a valid withdrawal or direct-debit event/);
  });
});
