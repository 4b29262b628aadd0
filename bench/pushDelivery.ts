import { setTimeout as sleep } from 'node:timers/promises';
import { Pool } from 'pg';
import { PushSubscriptions } from '../src/push/PushSubscriptions';
import { PushSubscriberProcess } from '../testkit/PushSubscriberProcess';
import { ServiceProcess } from '../testkit/ServiceProcess';
import { measureBacklogClaim } from './pushBacklogClaim';
import { formatNumber, ResultRow, TargetCheck } from './report';
import { commitStatusChange, latencyFigures } from './statusChange';

const LATENCY_CHANGES = 200;
const LATENCY_TARGET_P99_MS = 100;
const SUBSCRIBERS = 10;
/** The latest changes of the projection phase, sent again to every subscriber. */
const THROUGHPUT_CHANGES = 2000;
const THROUGHPUT_TARGET = 2000;
const THROUGHPUT_MAX_MS = 120_000;

export interface PushMeasurements {
  rows: ResultRow[];
  targets: TargetCheck[];
  workerIdleRssMb: number;
  workerPeakRssMb: number;
}

/**
 * The push, with a ROLE=worker process of its own and subscribers in processes of their own:
 *   1. latency: one subscriber; status changes commit one at a time (a history row and its
 *      NOTIFY, as the projection commits them); from each COMMIT's return to its arrival;
 *   2. throughput: 10 subscribers, each replaying the last 2,000 changes of the projection
 *      phase (real payments, so each message carries the payment's row): deliveries per second
 *      from the first arrival to the last, with the worker's CPU and RSS;
 *   3. a claim while a subscriber is down with a large backlog (see pushBacklogClaim.ts).
 */
export async function pushScenarios(startWorker: () => Promise<ServiceProcess>, pool: Pool, progress: (message: string) => void): Promise<PushMeasurements> {
  const subscriptions = new PushSubscriptions(pool);
  const worker = await startWorker();
  const subscribers: PushSubscriberProcess[] = [];
  try {
    const workerIdleRssMb = worker.rssMb();
    progress('push latency: one subscriber, status changes committed one at a time');
    const latency = await measureLatency(subscriptions, pool, worker, (subscriber) => subscribers.push(subscriber));
    worker.assertRunning();
    progress(`push throughput: ${SUBSCRIBERS} subscribers, each sent the last ${THROUGHPUT_CHANGES} changes again`);
    const throughput = await measureThroughput(subscriptions, pool, worker, (subscriber) => subscribers.push(subscriber));
    worker.assertRunning();
    progress('push backlog: claims while a subscriber is down with 300,000 waiting changes');
    const backlog = await measureBacklogClaim(pool);
    return {
      rows: [latency.row, throughput.row, backlog.row],
      targets: [latency.target, throughput.target, backlog.target],
      workerIdleRssMb,
      workerPeakRssMb: worker.peakRssMb(),
    };
  } finally {
    await Promise.all([worker.stop('SIGTERM', 10_000), ...subscribers.map((subscriber) => subscriber.stop())]);
  }
}

async function measureLatency(subscriptions: PushSubscriptions, pool: Pool, worker: ServiceProcess, started: (subscriber: PushSubscriberProcess) => void) {
  const subscriber = await PushSubscriberProcess.start('push subscriber (latency)', { verify: false });
  started(subscriber);
  const { subscription } = await subscriptions.add({ url: subscriber.url });
  // The worker finds a new subscription within its poll interval.
  await commitStatusChange(pool);
  await waitForCount(subscriber, 1, 30_000);
  const latenciesMs: number[] = [];
  for (let change = 0; change < LATENCY_CHANGES; change += 1) {
    const committedAt = await commitStatusChange(pool);
    const { lastAt } = await waitForCount(subscriber, change + 2, 10_000);
    latenciesMs.push((lastAt as number) - committedAt);
    await sleep(5);
  }
  await subscriptions.delete(subscription.id);
  const figures = latencyFigures(latenciesMs);
  const { p99Ms } = figures;
  return {
    row: {
      scenario: 'push: commit to subscriber, idle',
      ...figures,
      peakRssMb: worker.peakRssMb(),
      sample: `${LATENCY_CHANGES} changes committed one at a time, each awaited at the subscriber`,
    } satisfies ResultRow,
    target: { name: `push: commit to subscriber p99 <= ${LATENCY_TARGET_P99_MS} ms`, value: formatNumber(p99Ms, 1), met: p99Ms <= LATENCY_TARGET_P99_MS },
  };
}

async function measureThroughput(subscriptions: PushSubscriptions, pool: Pool, worker: ServiceProcess, started: (subscriber: PushSubscriberProcess) => void) {
  const subscribers = await Promise.all(Array.from({ length: SUBSCRIBERS }, (_, n) => PushSubscriberProcess.start(`push subscriber ${n + 1}`, { verify: false })));
  subscribers.forEach(started);
  const start = await positionBeforeLatest(pool, THROUGHPUT_CHANGES);
  const added = await Promise.all(subscribers.map(async (subscriber) => (await subscriptions.add({ url: subscriber.url })).subscription));
  const cpuBefore = worker.cpuSeconds();
  await Promise.all(added.map((subscription) => subscriptions.replayFrom(subscription.id, start)));
  const deadline = Date.now() + THROUGHPUT_MAX_MS;
  const counts = await Promise.all(subscribers.map((subscriber) => waitForCount(subscriber, THROUGHPUT_CHANGES, deadline - Date.now(), 250)));
  const cpuSeconds = worker.cpuSeconds() - cpuBefore;
  const firstAt = Math.min(...counts.map((count) => count.firstAt as number));
  const lastAt = Math.max(...counts.map((count) => count.lastAt as number));
  const deliveries = SUBSCRIBERS * THROUGHPUT_CHANGES;
  const rate = deliveries / ((lastAt - firstAt) / 1000);
  return {
    row: {
      scenario: `push: ${SUBSCRIBERS} subscribers x ${formatNumber(THROUGHPUT_CHANGES, 0)} changes`,
      eventsPerSecond: rate,
      peakRssMb: worker.peakRssMb(),
      sample: `${deliveries} deliveries in ${((lastAt - firstAt) / 1000).toFixed(1)} s (first to last arrival); worker CPU ${cpuSeconds.toFixed(1)} s, ${((cpuSeconds * 1e6) / deliveries).toFixed(0)} µs/delivery`,
    } satisfies ResultRow,
    target: { name: `push: deliveries/s to ${SUBSCRIBERS} subscribers >= ${formatNumber(THROUGHPUT_TARGET, 0)}`, value: formatNumber(rate, 0), met: rate >= THROUGHPUT_TARGET },
  };
}

/** The feed position just before the last `changes` status changes. */
async function positionBeforeLatest(pool: Pool, changes: number): Promise<{ transaction: string; id: string }> {
  const { rows } = await pool.query<{ transaction: string; id: string }>(
    `SELECT transaction_id::text AS transaction, (id - 1)::text AS id FROM payment_status_history
     WHERE status_changed ORDER BY transaction_id DESC, id DESC OFFSET $1 - 1 LIMIT 1`,
    [changes],
  );
  if (rows.length === 0) throw new Error(`push throughput: fewer than ${changes} status changes recorded`);
  return rows[0];
}

/**
 * Polls the subscriber's count until it reaches `count`. The arrival times are the subscriber's own, so
 * the polling only decides when the caller goes on; it competes for the same cores, hence `pollMs`.
 */
async function waitForCount(subscriber: PushSubscriberProcess, count: number, timeoutMs: number, pollMs = 2) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const received = await subscriber.received();
    if (received.count >= count) return received;
    if (Date.now() > deadline) throw new Error(`push: ${subscriber.url} received ${received.count} of ${count} changes in time`);
    await sleep(pollMs);
  }
}
