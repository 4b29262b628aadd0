import { Queue } from 'bullmq';
import IORedis from 'ioredis';
import { PaymentStatus } from '../../src/events/upvestEvents';
import { EVENTS_QUEUE_NAME } from '../../src/queue/redisKeys';
import { batchOf, ProviderEvent, withdrawalEvent } from '../../testkit/paymentEvents';
import { ServiceProcess, startServiceFromSources } from '../../testkit/ServiceProcess';
import { eventually, providerKeys, startTestService, TestService } from '../support/testService';

const PAYMENTS = 1000;
const STATUSES: PaymentStatus[] = ['NEW', 'PROCESSING', 'CONFIRMED'];

let api: TestService;
let redis: IORedis;
let queue: Queue;

beforeAll(async () => {
  api = await startTestService({ ROLE: 'api' });
  redis = new IORedis();
  queue = new Queue(EVENTS_QUEUE_NAME, { connection: redis, prefix: api.redisPrefix });
});

afterAll(async () => {
  await queue.close();
  await redis.quit();
  await api.stop();
});

/** A worker in a process of its own, so that the test can kill it like a crash would. */
function startWorkerProcess(): Promise<ServiceProcess> {
  return startServiceFromSources({
    ROLE: 'worker',
    DATABASE_URL: api.database.url,
    REDIS_PREFIX: api.redisPrefix,
    MIGRATE_ON_START: 'false',
    UPVEST_WEBHOOK_JWKS: JSON.stringify(providerKeys.jwks),
    // Small batches make the drain slow enough to be interrupted mid-way.
    PROJECTION_BATCH_SIZE: '20',
    WORKER_CONCURRENCY: '40',
    WORKER_LOCK_DURATION_MS: '1000',
  });
}

describe('when the worker is killed mid-batch', () => {
  it('projects every event exactly once after a new worker takes over', async () => {
    const events: ProviderEvent[] = [];
    for (let payment = 0; payment < PAYMENTS; payment += 1) {
      const paymentId = `f0000000-0000-4000-8000-${String(payment).padStart(12, '0')}`;
      STATUSES.forEach((status, index) => events.push(withdrawalEvent({ paymentId, status, createdAt: `2021-07-21T14:1${index}:00Z` })));
    }
    for (let start = 0; start < events.length; start += 100) {
      const response = await api.deliver(batchOf(...events.slice(start, start + 100)));
      expect(response.status).toBe(200);
    }

    const crashing = await startWorkerProcess();
    await eventually(async () => (await api.projectedEvents()) >= events.length / 4, 30000, 'a quarter of the events');
    await crashing.stop('SIGKILL');
    const projectedBeforeCrash = await api.projectedEvents();
    expect(projectedBeforeCrash).toBeLessThan(events.length);
    expect((await queue.getJobCounts('active')).active).toBeGreaterThan(0);

    const successor = await startWorkerProcess();
    try {
      await eventually(
        async () => {
          const counts = await queue.getJobCounts('wait', 'active', 'delayed', 'failed');
          return counts.wait + counts.active + counts.delayed === 0 && (await api.projectedEvents()) === events.length;
        },
        60000,
        'the queue to drain',
      );
    } finally {
      expect(await successor.stop('SIGTERM')).toBe(0);
    }

    expect(await queue.getJobCounts('failed')).toEqual({ failed: 0 });
    expect(await api.projectedEvents()).toBe(events.length);
    expect(await api.prisma.paymentStatusHistory.count()).toBe(events.length);
    expect(await api.prisma.withdrawal.count()).toBe(PAYMENTS);
    expect(await api.prisma.withdrawal.count({ where: { status: 'CONFIRMED' } })).toBe(PAYMENTS);
  });
});
