import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { createLogger } from '../../src/logging/logger';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { createRedisConnection } from '../../src/queue/redisConnection';
import { RECONCILIATION_QUEUE_NAME } from '../../src/queue/redisKeys';
import { ReconciliationScheduler } from '../../src/reconciliation/ReconciliationScheduler';
import { deleteRedisKeys, eventually } from '../support/testService';

describe('ReconciliationScheduler', () => {
  const prefix = `test-${process.pid}-${randomBytes(4).toString('hex')}`;

  afterAll(async () => {
    await deleteRedisKeys(prefix);
  });

  const noFindings = { checked: 0, corrected: 0, failed: 0, oldestNonFinalSeconds: null };

  it('runs one reconciliation at a time across worker replicas, each interval', async () => {
    let active = 0;
    let mostAtOnce = 0;
    let runs = 0;
    // Slower than the interval, so that a second replica would start an overlapping run if it could.
    const slowReconciler = {
      async run() {
        active += 1;
        runs += 1;
        mostAtOnce = Math.max(mostAtOnce, active);
        await sleep(300);
        active -= 1;
        return noFindings;
      },
    };
    const replicas = [1, 2].map(() => {
      const connection = createRedisConnection('redis://127.0.0.1:6379', 'worker');
      const queue = reconciliationQueue(connection, prefix);
      return { connection, queue, scheduler: new ReconciliationScheduler(slowReconciler, queue, createLogger('error', true), { connection, intervalMs: 100 }) };
    });
    await Promise.all(replicas.map(({ scheduler }) => scheduler.start()));

    await sleep(2000);
    await Promise.all(replicas.map(({ scheduler }) => scheduler.close()));
    await Promise.all(replicas.map(({ queue }) => queue.close()));
    await Promise.all(replicas.map(({ connection }) => connection.quit()));

    expect(runs).toBeGreaterThanOrEqual(3);
    expect(mostAtOnce).toBe(1);
  });

  it('keeps failed runs until a run succeeds, then clears them', async () => {
    const ownPrefix = `${prefix}-clear`;
    let failuresLeft = 2;
    const flakyReconciler = {
      async run() {
        if (failuresLeft > 0) {
          failuresLeft -= 1;
          throw new Error('Upvest API unavailable');
        }
        return noFindings;
      },
    };
    const connection = createRedisConnection('redis://127.0.0.1:6379', 'worker');
    const queue = reconciliationQueue(connection, ownPrefix);
    const scheduler = new ReconciliationScheduler(flakyReconciler, queue, createLogger('error', true), { connection, intervalMs: 100 });
    const failedCounts: number[] = [];
    try {
      await scheduler.start();
      await eventually(async () => {
        failedCounts.push((await queue.getJobCounts('failed')).failed);
        return failuresLeft === 0 && failedCounts.at(-1) === 0 && Math.max(...failedCounts) > 0;
      }, 10_000, 'failed runs to come and go');
    } finally {
      await scheduler.close();
      await queue.close();
      await connection.quit();
      await deleteRedisKeys(ownPrefix);
    }

    expect(Math.max(...failedCounts)).toBeGreaterThan(0);
    expect(failedCounts.at(-1)).toBe(0);
  });
});

/** The reconciliation queue as the service opens it: one per process, closed by its owner. */
function reconciliationQueue(connection: Redis, prefix: string): Queue {
  return new Queue(RECONCILIATION_QUEUE_NAME, { connection, prefix });
}
