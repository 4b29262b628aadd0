import { MetricsRegistryOptions } from '../../src/metrics/MetricsRegistry';
import { QueueJobState, WatchedQueue } from '../../src/queue/queueMetrics';
import { registerServiceMetrics, ServiceMetrics } from '../../src/wiring/serviceMetrics';

/** What the backlog gauges read from Postgres on each scrape. */
interface BacklogSource {
  quarantinePending(): Promise<number>;
  oldestUnprojectedSeconds(): Promise<number>;
}

/** A service's instruments, as every service process registers them, with the calls of the modules that record them. */
class Metrics {
  private readonly metrics: ServiceMetrics;
  private backlog: BacklogSource | undefined;

  constructor(options: MetricsRegistryOptions = {}) {
    const noDatabase = () => Promise.reject(new Error('no database'));
    this.metrics = registerServiceMetrics(
      {
        inbox: { oldestUnprojectedSeconds: () => this.backlog?.oldestUnprojectedSeconds() ?? noDatabase() },
        quarantine: { pendingCount: () => this.backlog?.quarantinePending() ?? noDatabase() },
        push: { subscriptionBacklogs: () => Promise.resolve([]) },
      },
      options,
    );
  }

  get registry() {
    return this.metrics.registry.registry;
  }

  text = () => this.metrics.registry.text();
  watchQueue = (queue: WatchedQueue) => this.metrics.queues.watch(queue);
  watchBacklog = (backlog: BacklogSource) => (this.backlog = backlog);
  signatureFailure: ServiceMetrics['http']['signatureFailure'] = (reason) => this.metrics.http.signatureFailure(reason);
  httpRequest: ServiceMetrics['http']['httpRequest'] = (...args) => this.metrics.http.httpRequest(...args);
  webhookEvents: ServiceMetrics['ingest']['webhookEvents'] = (...args) => this.metrics.ingest.webhookEvents(...args);
  projectionLagSeconds = (seconds: number) => this.metrics.projection.projectionLagSeconds(seconds);
  reconciliationRun: ServiceMetrics['reconciliation']['reconciliationRun'] = (report) => this.metrics.reconciliation.reconciliationRun(report);
}

/** The value of one series, or undefined when the series is not exported. */
async function valueOf(metrics: Metrics, name: string, labels: Record<string, string> = {}): Promise<number | undefined> {
  const metric = metrics.registry.getSingleMetric(name);
  if (metric === undefined) throw new Error(`no metric ${name}`);
  const { values } = await metric.get();
  const wanted = Object.entries(labels);
  return values.find((value) => wanted.every(([key, label]) => value.labels[key] === label))?.value;
}

/** A queue whose every read goes through `getJobCounts`, so that they hang or fail together, as with one Redis. */
function queueWith(name: string, getJobCounts: WatchedQueue['getJobCounts'], state: Partial<Omit<WatchedQueue, 'name' | 'getJobCounts'>> = {}): WatchedQueue {
  return {
    name,
    getJobCounts,
    getWaiting: () => getJobCounts().then(() => []),
    isPaused: () => getJobCounts().then(() => false),
    getWorkersCount: () => getJobCounts().then(() => 1),
    ...state,
  };
}

const COUNTS = { waiting: 0, active: 0, delayed: 0, failed: 0 };

describe('Metrics', () => {
  it('exposes exactly the documented metric names on a registry of its own', async () => {
    const metrics = new Metrics({ defaultMetrics: false });
    const names = (await metrics.registry.getMetricsAsJSON()).map((metric) => metric.name).sort();
    expect(names).toEqual([
      'upvest_dependency_errors_total',
      'upvest_http_request_duration_seconds',
      'upvest_inbox_oldest_unprojected_seconds',
      'upvest_inbox_requeued_events_total',
      'upvest_projection_job_attempts_total',
      'upvest_projection_lag_seconds',
      'upvest_push_attempts_total',
      'upvest_push_deliveries_total',
      'upvest_push_delivery_lag_seconds',
      'upvest_push_failures_total',
      'upvest_push_oldest_undelivered_seconds',
      'upvest_push_subscription_failing',
      'upvest_quarantine_pending',
      'upvest_queue_jobs',
      'upvest_queue_oldest_waiting_seconds',
      'upvest_queue_paused',
      'upvest_queue_workers',
      'upvest_reconciliation_corrected_total',
      'upvest_reconciliation_oldest_non_final_seconds',
      'upvest_reconciliation_runs_total',
      'upvest_redis_maxmemory_policy',
      'upvest_webhook_conflicting_duplicates_total',
      'upvest_webhook_events_total',
      'upvest_webhook_signature_failures_total',
    ]);
  });

  it('lets several instances live in one process, each with its own counts', async () => {
    const first = new Metrics();
    const second = new Metrics();
    first.signatureFailure('bad_signature');

    expect(await valueOf(first, 'upvest_webhook_signature_failures_total', { reason: 'bad_signature' })).toBe(1);
    expect(await valueOf(second, 'upvest_webhook_signature_failures_total', { reason: 'bad_signature' })).toBe(0);
    expect(await first.text()).toMatch(/^process_cpu_user_seconds_total /m);
    expect(await second.text()).toMatch(/^nodejs_eventloop_lag_seconds /m);
  });

  it('starts the series that alerts rate() over at zero', async () => {
    const metrics = new Metrics({ defaultMetrics: false });
    const text = await metrics.text();

    for (const outcome of ['completed', 'retried', 'failed']) expect(text).toContain(`upvest_projection_job_attempts_total{outcome="${outcome}"} 0`);
    for (const dependency of ['postgres', 'redis']) expect(text).toContain(`upvest_dependency_errors_total{dependency="${dependency}"} 0`);
    expect(text).toContain('upvest_webhook_signature_failures_total{reason="digest_mismatch"} 0');
  });

  it('counts webhook events by bounded type label and outcome', async () => {
    const metrics = new Metrics({ defaultMetrics: false });
    metrics.webhookEvents('WITHDRAWAL.NEW', 'accepted', 3);
    metrics.webhookEvents('WITHDRAWAL.NEW', 'accepted', 2);
    metrics.webhookEvents('USER.CREATED', 'ignored', 1);
    metrics.webhookEvents('USER.DELETED', 'ignored', 4);
    metrics.webhookEvents(undefined, 'quarantined', 1);

    expect(await valueOf(metrics, 'upvest_webhook_events_total', { type: 'WITHDRAWAL.NEW', outcome: 'accepted' })).toBe(5);
    expect(await valueOf(metrics, 'upvest_webhook_events_total', { type: 'USER', outcome: 'ignored' })).toBe(5);
    expect(await valueOf(metrics, 'upvest_webhook_events_total', { type: 'unknown', outcome: 'quarantined' })).toBe(1);
  });

  it('observes HTTP requests and the projection lag in their histograms', async () => {
    const metrics = new Metrics({ defaultMetrics: false });
    metrics.httpRequest('POST', '/webhooks/upvest', 200, 0.02);
    metrics.projectionLagSeconds(42);

    const text = await metrics.text();
    expect(text).toContain('upvest_http_request_duration_seconds_bucket{le="0.025",method="POST",route="/webhooks/upvest",status="200"} 1');
    expect(text).toContain('upvest_projection_lag_seconds_bucket{le="30"} 0');
    expect(text).toContain('upvest_projection_lag_seconds_bucket{le="60"} 1');
    expect(text).toContain('upvest_projection_lag_seconds_bucket{le="600"} 1');
  });

  it('counts the completed reconciliation runs', async () => {
    const metrics = new Metrics({ defaultMetrics: false });
    expect(await valueOf(metrics, 'upvest_reconciliation_runs_total')).toBe(0);

    metrics.reconciliationRun({ corrected: 0, oldestNonFinalSeconds: null });
    metrics.reconciliationRun({ corrected: 4, oldestNonFinalSeconds: null });

    expect(await valueOf(metrics, 'upvest_reconciliation_runs_total')).toBe(2);
  });

  it('takes the reconciliation report: corrections add up, the oldest non-final age is replaced, null reads 0', async () => {
    const metrics = new Metrics({ defaultMetrics: false });
    metrics.reconciliationRun({ corrected: 2, oldestNonFinalSeconds: 7200 });
    expect(await valueOf(metrics, 'upvest_reconciliation_oldest_non_final_seconds')).toBe(7200);

    metrics.reconciliationRun({ corrected: 1, oldestNonFinalSeconds: null });

    expect(await valueOf(metrics, 'upvest_reconciliation_corrected_total')).toBe(3);
    expect(await valueOf(metrics, 'upvest_reconciliation_oldest_non_final_seconds')).toBe(0);
  });

  describe('upvest_queue_jobs', () => {
    it('reads every watched queue on each scrape', async () => {
      const metrics = new Metrics({ defaultMetrics: false });
      let waiting = 5;
      const asked: QueueJobState[][] = [];
      metrics.watchQueue(
        queueWith('upvest-events', async (...types) => {
          asked.push(types);
          return { waiting, active: 2, delayed: 1, failed: 0 };
        }),
      );
      metrics.watchQueue(queueWith('upvest-reconciliation', async () => ({ waiting: 0, active: 1, delayed: 1, failed: 3 })));

      expect(await valueOf(metrics, 'upvest_queue_jobs', { queue: 'upvest-events', state: 'waiting' })).toBe(5);
      waiting = 9;
      const text = await metrics.text();

      expect(text).toContain('upvest_queue_jobs{queue="upvest-events",state="waiting"} 9');
      expect(text).toContain('upvest_queue_jobs{queue="upvest-events",state="active"} 2');
      expect(text).toContain('upvest_queue_jobs{queue="upvest-reconciliation",state="failed"} 3');
      expect(asked[0]).toEqual(['waiting', 'active', 'delayed', 'failed']);
    });

    it('does not let a slow Redis hang the scrape, and leaves out the counts it could not read rather than show stale ones', async () => {
      const metrics = new Metrics({ defaultMetrics: false, scrapeReadTimeoutMs: 50 });
      let hang = false;
      metrics.watchQueue(
        queueWith('upvest-events', () => (hang ? new Promise(() => undefined) : Promise.resolve({ waiting: 1, active: 0, delayed: 0, failed: 0 }))),
      );
      metrics.watchQueue(queueWith('upvest-reconciliation', async () => ({ waiting: 4, active: 0, delayed: 0, failed: 0 })));
      expect(await metrics.text()).toContain('upvest_queue_jobs{queue="upvest-events",state="waiting"} 1');

      hang = true;
      const started = performance.now();
      const text = await metrics.text();

      expect(performance.now() - started).toBeLessThan(1000);
      expect(text).not.toContain('queue="upvest-events"');
      expect(text).toContain('upvest_queue_jobs{queue="upvest-reconciliation",state="waiting"} 4');
    });

    it('leaves out a queue whose counts fail', async () => {
      const metrics = new Metrics({ defaultMetrics: false });
      metrics.watchQueue(queueWith('upvest-events', () => Promise.reject(new Error('Connection is closed.'))));

      const text = await metrics.text();

      expect(text).toContain('# TYPE upvest_queue_jobs gauge');
      expect(text).not.toContain('queue="upvest-events"');
    });
  });

  describe('the stall gauges of a queue', () => {
    it('tell the age of the oldest waiting job, whether the queue is paused and how many workers it has', async () => {
      const metrics = new Metrics({ defaultMetrics: false });
      const queuedAt = Date.now() - 90_000;
      metrics.watchQueue(
        queueWith('upvest-events', async () => COUNTS, {
          getWaiting: async (start, end) => (start === 0 && end === 0 ? [{ timestamp: queuedAt }] : []),
          isPaused: async () => true,
          getWorkersCount: async () => 3,
        }),
      );

      expect(await valueOf(metrics, 'upvest_queue_oldest_waiting_seconds', { queue: 'upvest-events' })).toBeGreaterThanOrEqual(90);
      expect(await valueOf(metrics, 'upvest_queue_oldest_waiting_seconds', { queue: 'upvest-events' })).toBeLessThan(120);
      expect(await valueOf(metrics, 'upvest_queue_paused', { queue: 'upvest-events' })).toBe(1);
      expect(await valueOf(metrics, 'upvest_queue_workers', { queue: 'upvest-events' })).toBe(3);
    });

    it('count a retried job as waiting since its last attempt started, and an empty queue as 0', async () => {
      const metrics = new Metrics({ defaultMetrics: false });
      const now = Date.now();
      metrics.watchQueue(
        queueWith('upvest-events', async () => COUNTS, { getWaiting: async () => [{ timestamp: now - 3_600_000, processedOn: now - 10_000 }] }),
      );
      metrics.watchQueue(queueWith('upvest-reconciliation', async () => COUNTS, { getWaiting: async () => [] }));

      expect(await valueOf(metrics, 'upvest_queue_oldest_waiting_seconds', { queue: 'upvest-events' })).toBeLessThan(60);
      expect(await valueOf(metrics, 'upvest_queue_oldest_waiting_seconds', { queue: 'upvest-reconciliation' })).toBe(0);
      expect(await valueOf(metrics, 'upvest_queue_paused', { queue: 'upvest-reconciliation' })).toBe(0);
    });

    it('leave out only the worker count where Redis refuses CLIENT LIST', async () => {
      const metrics = new Metrics({ defaultMetrics: false });
      metrics.watchQueue(queueWith('upvest-events', async () => COUNTS, { getWorkersCount: () => Promise.reject(new Error("ERR unknown command 'CLIENT'")) }));

      const text = await metrics.text();

      expect(text).not.toMatch(/^upvest_queue_workers\{/m);
      expect(text).toContain('upvest_queue_paused{queue="upvest-events"} 0');
      expect(text).toContain('upvest_queue_jobs{queue="upvest-events",state="waiting"} 0');
    });
  });

  describe('the backlog gauges, read from Postgres at scrape time', () => {
    const backlogOf = (reads: Partial<BacklogSource>): BacklogSource => ({
      quarantinePending: async () => 0,
      oldestUnprojectedSeconds: async () => 0,
      ...reads,
    });

    it('show the first quarantined item as a change from 0 to 1, which a counter born at 1 cannot', async () => {
      const metrics = new Metrics({ defaultMetrics: false });
      let pending = 0;
      metrics.watchBacklog(backlogOf({ quarantinePending: async () => pending, oldestUnprojectedSeconds: async () => 42.5 }));
      expect(await valueOf(metrics, 'upvest_quarantine_pending')).toBe(0);

      pending = 1;

      expect(await valueOf(metrics, 'upvest_quarantine_pending')).toBe(1);
      expect(await valueOf(metrics, 'upvest_inbox_oldest_unprojected_seconds')).toBe(42.5);
    });

    it('are left out, not shown as 0, without a database or when Postgres does not answer in time', async () => {
      const metrics = new Metrics({ defaultMetrics: false, scrapeReadTimeoutMs: 50 });
      expect(await metrics.text()).not.toMatch(/^upvest_(quarantine_pending|inbox_oldest_unprojected_seconds) /m);

      let hang = false;
      const answer = <T>(value: T) => (hang ? new Promise<T>(() => undefined) : Promise.resolve(value));
      metrics.watchBacklog(backlogOf({ quarantinePending: () => answer(2), oldestUnprojectedSeconds: () => answer(7) }));
      expect(await metrics.text()).toContain('upvest_quarantine_pending 2');

      hang = true;
      const started = performance.now();
      const text = await metrics.text();

      expect(performance.now() - started).toBeLessThan(1000);
      expect(text).not.toMatch(/^upvest_(quarantine_pending|inbox_oldest_unprojected_seconds) /m);
    });
  });
});
