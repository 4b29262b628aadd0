import { Queue } from 'bullmq';
import IORedis from 'ioredis';
import request from 'supertest';
import { EVENTS_QUEUE_NAME } from '../../src/queue/redisKeys';
import { batchOf, withdrawalEvent } from '../../testkit/paymentEvents';
import { refuseAmount666 } from '../support/refusedAmount';
import { TcpProxy } from '../support/tcpProxy';
import { createTestDatabase, TestDatabase } from '../support/testDatabase';
import { deleteRedisKeys, eventually, startTestService, TestService } from '../support/testService';

let database: TestDatabase;
let proxy: TcpProxy;
/** Reaches Postgres directly. */
let api: TestService;
/** Reaches Postgres through the proxy that a test cuts. */
let worker: TestService;
let redis: IORedis;
let queue: Queue;
const redisPrefix = `test-pg-reasons-${process.pid}`;

beforeAll(async () => {
  database = await createTestDatabase();
  proxy = await TcpProxy.start(5432);
  const viaProxy = new URL(database.url);
  viaProxy.port = String(proxy.port);
  api = await startTestService({ ROLE: 'api' }, { database, redisPrefix });
  worker = await startTestService({ ROLE: 'worker', DATABASE_URL: viaProxy.toString() }, { database, redisPrefix });
  redis = new IORedis();
  queue = new Queue(EVENTS_QUEUE_NAME, { connection: redis, prefix: redisPrefix });
});

afterAll(async () => {
  proxy.restore();
  for (const service of [worker, api]) await service.stop();
  await queue.close();
  await redis.quit();
  await proxy.close();
  await deleteRedisKeys(redisPrefix);
  await database.drop();
});

/** What an operator reads must be the cause itself: one line, without Prisma's "Invalid `prisma...` invocation:". */
function expectShortCause(reason: string | undefined): void {
  expect(reason).toBeDefined();
  expect(reason).not.toMatch(/invocation|prisma|\n/i);
}

describe('the reasons operators read when the database fails', () => {
  it("gives a job that Postgres refused for good the server's own words, also as the inbox's last_error", async () => {
    const allow = await refuseAmount666(api, 'withdrawals');
    try {
      const refused = withdrawalEvent({ object: { amount: '666.00' } });
      expect((await api.deliver(batchOf(refused))).status).toBe(200);

      const job = await eventually(async () => (await queue.getFailed()).find((failed) => failed.id === refused.id.toLowerCase()));
      const expected = 'new row for relation "withdrawals" violates check constraint "refuse_666" (SQLSTATE 23514)';
      expect(job.failedReason).toBe(expected);
      const inbox = await api.prisma.webhookEvent.findUniqueOrThrow({ where: { id: refused.id } });
      expect(inbox.lastError).toBe(expected);
    } finally {
      await allow();
    }
  });

  it("gives a job that failed for a passing database reason the server's words, also as the inbox's last_error", async () => {
    // A serialization failure, as a busy database raises it, for the withdrawal of 667.00 only.
    await api.prisma.$executeRawUnsafe(`CREATE FUNCTION fail_667() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.amount = 667.00 THEN RAISE EXCEPTION 'could not serialize access due to concurrent update' USING ERRCODE = '40001'; END IF;
        RETURN NEW;
      END $$`);
    await api.prisma.$executeRawUnsafe('CREATE TRIGGER fail_667 BEFORE INSERT OR UPDATE ON withdrawals FOR EACH ROW EXECUTE FUNCTION fail_667()');
    try {
      const event = withdrawalEvent({ object: { amount: '667.00' } });
      expect((await api.deliver(batchOf(event))).status).toBe(200);
      const { jobId } = await api.prisma.webhookEvent.findUniqueOrThrow({ where: { id: event.id } });

      const retried = await eventually(async () => {
        const job = await queue.getJob(jobId as string);
        return job !== undefined && job.attemptsMade >= 1 ? job : undefined;
      });
      const expected = 'could not serialize access due to concurrent update (SQLSTATE 40001)';
      expect(retried.failedReason).toBe(expected);
      const inbox = await api.prisma.webhookEvent.findUniqueOrThrow({ where: { id: event.id } });
      expect(inbox.lastError).toBe(expected);
    } finally {
      await api.prisma.$executeRawUnsafe('DROP TRIGGER fail_667 ON withdrawals');
      await api.prisma.$executeRawUnsafe('DROP FUNCTION fail_667()');
    }
  });

  it('gives a job retried while Postgres is unreachable, and /readyz, the connection error in one line', async () => {
    const event = withdrawalEvent();
    proxy.cut();
    try {
      expect((await api.deliver(batchOf(event))).status).toBe(200);
      const { jobId } = await api.prisma.webhookEvent.findUniqueOrThrow({ where: { id: event.id } });

      const retried = await eventually(async () => {
        const job = await queue.getJob(jobId as string);
        return job !== undefined && job.attemptsMade >= 1 ? job : undefined;
      });
      expectShortCause(retried.failedReason);
      const readiness = await request(worker.baseUrl).get('/readyz');
      expect(readiness.status).toBe(503);
      expectShortCause(readiness.body.checks.postgres);
    } finally {
      proxy.restore();
    }
  });
});
