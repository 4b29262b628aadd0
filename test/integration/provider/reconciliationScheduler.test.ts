import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { createLogger } from '../../../src/logging/logger';
import { createRedisConnection } from '../../../src/queue/redisConnection';
import { ReconciliationScheduler } from '../../../src/reconciliation/ReconciliationScheduler';
import { deleteRedisKeys } from '../../support/testService';

describe('ReconciliationScheduler', () => {
  const prefix = `test-${process.pid}-${randomBytes(4).toString('hex')}`;

  afterAll(async () => {
    await deleteRedisKeys(prefix);
  });

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
        return { checked: 0, corrected: 0, failed: 0, oldestNonFinalSeconds: null };
      },
    };
    const replicas = [1, 2].map(() => {
      const connection = createRedisConnection('redis://127.0.0.1:6379', 'worker');
      return { connection, scheduler: new ReconciliationScheduler(slowReconciler, createLogger('error', true), { connection, prefix, intervalMs: 100 }) };
    });
    await Promise.all(replicas.map(({ scheduler }) => scheduler.start()));

    await sleep(2000);
    await Promise.all(replicas.map(({ scheduler }) => scheduler.close()));
    await Promise.all(replicas.map(({ connection }) => connection.quit()));

    expect(runs).toBeGreaterThanOrEqual(3);
    expect(mostAtOnce).toBe(1);
  });
});
