import { Gauge } from 'prom-client';
import { MetricsRegistry } from '../metrics/MetricsRegistry';

/** The queue states exported as `upvest_queue_jobs{state}`; the names are BullMQ's. */
const QUEUE_JOB_STATES = ['waiting', 'active', 'delayed', 'failed'] as const;
export type QueueJobState = (typeof QUEUE_JOB_STATES)[number];

/** What the queue gauges read on each scrape: a BullMQ Queue fits. */
export interface WatchedQueue {
  readonly name: string;
  getJobCounts(...types: QueueJobState[]): Promise<Partial<Record<string, number>>>;
  /** The oldest waiting job first (BullMQ's getWaiting is ascending). */
  getWaiting(start: number, end: number): Promise<Array<{ timestamp: number; processedOn?: number }>>;
  isPaused(): Promise<boolean>;
  /** Worker connections to the queue (BullMQ names them; read with CLIENT LIST). */
  getWorkersCount(): Promise<number>;
}

/**
 * The queues' gauges, read from Redis at scrape time for every watched queue, and the Redis
 * eviction policy the worker found. Every process reports the same shared queues: aggregate with
 * max, not sum.
 */
export class QueueInstruments {
  private readonly queues: WatchedQueue[] = [];
  private readonly redisMaxmemoryPolicy: Gauge<'policy'>;

  constructor(private readonly metrics: MetricsRegistry) {
    const { registry } = metrics;
    const queueJobs: Gauge<'queue' | 'state'> = new Gauge({
      name: 'upvest_queue_jobs',
      help: 'Jobs in a BullMQ queue by state, read from Redis at scrape time. Every process reports the same shared queues: aggregate with max, not sum.',
      labelNames: ['queue', 'state'] as const,
      registers: [registry],
      collect: () =>
        this.collectPerQueue(
          queueJobs,
          (queue) => queue.getJobCounts(...QUEUE_JOB_STATES),
          (queue, counts) => {
            for (const state of QUEUE_JOB_STATES) queueJobs.set({ queue, state }, counts[state] ?? 0);
          },
        ),
    });
    const oldestWaiting: Gauge<'queue'> = new Gauge({
      name: 'upvest_queue_oldest_waiting_seconds',
      help: 'Age of the oldest waiting job of a BullMQ queue (since it was queued, or since its last attempt started), read from Redis at scrape time; 0 when none waits. Aggregate with max.',
      labelNames: ['queue'] as const,
      registers: [registry],
      collect: () => this.collectQueueGauge(oldestWaiting, (queue) => queue.getWaiting(0, 0).then(([oldest]) => waitingSeconds(oldest))),
    });
    const paused: Gauge<'queue'> = new Gauge({
      name: 'upvest_queue_paused',
      help: 'Whether a BullMQ queue is paused (1) or not (0), e.g. from bull-board, read from Redis at scrape time. Aggregate with max.',
      labelNames: ['queue'] as const,
      registers: [registry],
      collect: () => this.collectQueueGauge(paused, (queue) => queue.isPaused().then(Number)),
    });
    const workers: Gauge<'queue'> = new Gauge({
      name: 'upvest_queue_workers',
      help: 'Workers connected to a BullMQ queue, from CLIENT LIST at scrape time (left out where Redis refuses CLIENT LIST). Aggregate with max.',
      labelNames: ['queue'] as const,
      registers: [registry],
      collect: () => this.collectQueueGauge(workers, (queue) => queue.getWorkersCount()),
    });
    this.redisMaxmemoryPolicy = new Gauge({
      name: 'upvest_redis_maxmemory_policy',
      help: 'The maxmemory-policy Redis reported to this worker at start (1 for the policy in the label; "unknown" where CONFIG is disabled). BullMQ requires noeviction.',
      labelNames: ['policy'] as const,
      registers: [registry],
    });
  }

  /** Adds a queue to the `upvest_queue_*` gauges. */
  watch(queue: WatchedQueue): void {
    this.queues.push(queue);
  }

  /** The maxmemory-policy Redis reported ("unknown" where CONFIG is disabled). */
  redisPolicy(policy: string): void {
    this.redisMaxmemoryPolicy.reset();
    this.redisMaxmemoryPolicy.set({ policy }, 1);
  }

  /**
   * Gauge collect(): reads every watched queue, then replaces the gauge's series at once. A queue
   * whose read fails or is late is left out rather than shown stale.
   */
  private async collectPerQueue<T>(gauge: Gauge<string>, read: (queue: WatchedQueue) => Promise<T>, set: (queue: string, value: T) => void): Promise<void> {
    const results = await Promise.all(
      this.queues.map((queue) =>
        this.metrics.readInTime(read(queue), queue.name).then(
          (value) => ({ queue: queue.name, value }),
          () => undefined,
        ),
      ),
    );
    gauge.reset();
    for (const result of results) if (result !== undefined) set(result.queue, result.value);
  }

  private collectQueueGauge(gauge: Gauge<'queue'>, read: (queue: WatchedQueue) => Promise<number>): Promise<void> {
    return this.collectPerQueue(gauge, read, (queue, value) => gauge.set({ queue }, value));
  }
}

/** How long the oldest waiting job has waited; 0 when none waits. */
function waitingSeconds(oldest: { timestamp: number; processedOn?: number } | undefined): number {
  if (oldest === undefined) return 0;
  // A retried job keeps the timestamp of its first queueing; it has waited only since its last attempt.
  return Math.max(0, (Date.now() - Math.max(oldest.timestamp, oldest.processedOn ?? 0)) / 1000);
}
