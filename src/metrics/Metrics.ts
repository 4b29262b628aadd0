import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { SIGNATURE_FAILURE_REASONS, type SignatureFailureReason } from '../signature';
import { withTimeout } from '../shared/withTimeout';
import type { InboxSweeperMetrics } from '../inbox/InboxSweeper';
import type { IngestMetrics, IngestOutcome } from '../ingest/BatchIngestor';
import type { JobAttemptOutcome, ProjectionMetrics } from '../projection/ProjectionWorker';
import type { ReconciliationMetrics } from '../reconciliation/Reconciler';
import { eventTypeLabel } from './labels';

type Dependency = 'postgres' | 'redis';

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

/** What the backlog gauges read from Postgres on each scrape. */
export interface BacklogSource {
  /** Quarantined payloads an operator has not reprocessed yet. */
  quarantinePending(): Promise<number>;
  /** Age of the oldest inbox event not projected yet; 0 when there is none. */
  oldestUnprojectedSeconds(): Promise<number>;
}

export interface MetricsOptions {
  /** Longest wait for one read from Redis or Postgres during a scrape; its series are left out after it. Default 1000 ms. */
  scrapeReadTimeoutMs?: number;
  /** Process metrics (CPU, memory, event loop, GC) on the same registry. Default true. */
  defaultMetrics?: boolean;
}

const JOB_ATTEMPT_OUTCOMES: JobAttemptOutcome[] = ['completed', 'retried', 'failed'];
const DEPENDENCIES: Dependency[] = ['postgres', 'redis'];

/** Event created_at → row committed: seconds for a live pipeline, minutes while it catches up. */
const PROJECTION_LAG_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];

/**
 * The service's Prometheus instruments, on a registry of their own (one per service instance, so
 * that several services in one process, as in the tests, do not share or clash). Domain classes
 * see it through narrow interfaces (IngestMetrics, ProjectionMetrics, ...) and never import
 * prom-client.
 */
export class Metrics implements IngestMetrics, ProjectionMetrics, ReconciliationMetrics, InboxSweeperMetrics {
  readonly registry = new Registry();
  private readonly queues: WatchedQueue[] = [];
  private backlog?: BacklogSource;
  private readonly scrapeReadTimeoutMs: number;

  private readonly httpRequestDuration = new Histogram({
    name: 'upvest_http_request_duration_seconds',
    help: 'HTTP requests by method, matched route pattern (or "unmatched") and status, until the answer was sent.',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  private readonly webhookEventsTotal = new Counter({
    name: 'upvest_webhook_events_total',
    help: 'Events of acknowledged webhook deliveries by event type and outcome (accepted, duplicate, ignored, quarantined). Ignored types are counted by their prefix (USER), unusable ones as "unknown".',
    labelNames: ['type', 'outcome'] as const,
    registers: [this.registry],
  });

  private readonly conflictingDuplicates = new Counter({
    name: 'upvest_webhook_conflicting_duplicates_total',
    help: 'Copies of an event id with other content than the version received first (which stands), quarantined once per distinct copy, by event type.',
    labelNames: ['type'] as const,
    registers: [this.registry],
  });

  private readonly inboxRequeued = new Counter({
    name: 'upvest_inbox_requeued_events_total',
    help: 'Committed events that the inbox sweeper queued again because no live job held them (Redis lost the job, or the process died before queueing it).',
    registers: [this.registry],
  });

  private readonly redisMaxmemoryPolicy = new Gauge({
    name: 'upvest_redis_maxmemory_policy',
    help: 'The maxmemory-policy Redis reported to this worker at start (1 for the policy in the label; "unknown" where CONFIG is disabled). BullMQ requires noeviction.',
    labelNames: ['policy'] as const,
    registers: [this.registry],
  });

  private readonly signatureFailures = new Counter({
    name: 'upvest_webhook_signature_failures_total',
    help: 'Webhook deliveries refused with 401, by reason.',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  private readonly queueJobs: Gauge<'queue' | 'state'> = new Gauge({
    name: 'upvest_queue_jobs',
    help: 'Jobs in a BullMQ queue by state, read from Redis at scrape time. Every process reports the same shared queues: aggregate with max, not sum.',
    labelNames: ['queue', 'state'] as const,
    registers: [this.registry],
    collect: () =>
      this.collectPerQueue(
        this.queueJobs,
        (queue) => queue.getJobCounts(...QUEUE_JOB_STATES),
        (queue, counts) => {
          for (const state of QUEUE_JOB_STATES) this.queueJobs.set({ queue, state }, counts[state] ?? 0);
        },
      ),
  });

  private readonly queueOldestWaiting: Gauge<'queue'> = new Gauge({
    name: 'upvest_queue_oldest_waiting_seconds',
    help: 'Age of the oldest waiting job of a BullMQ queue (since it was queued, or since its last attempt started), read from Redis at scrape time; 0 when none waits. Aggregate with max.',
    labelNames: ['queue'] as const,
    registers: [this.registry],
    collect: () => this.collectQueueGauge(this.queueOldestWaiting, (queue) => queue.getWaiting(0, 0).then(([oldest]) => waitingSeconds(oldest))),
  });

  private readonly queuePaused: Gauge<'queue'> = new Gauge({
    name: 'upvest_queue_paused',
    help: 'Whether a BullMQ queue is paused (1) or not (0), e.g. from bull-board, read from Redis at scrape time. Aggregate with max.',
    labelNames: ['queue'] as const,
    registers: [this.registry],
    collect: () => this.collectQueueGauge(this.queuePaused, (queue) => queue.isPaused().then(Number)),
  });

  private readonly queueWorkers: Gauge<'queue'> = new Gauge({
    name: 'upvest_queue_workers',
    help: 'Workers connected to a BullMQ queue, from CLIENT LIST at scrape time (left out where Redis refuses CLIENT LIST). Aggregate with max.',
    labelNames: ['queue'] as const,
    registers: [this.registry],
    collect: () => this.collectQueueGauge(this.queueWorkers, (queue) => queue.getWorkersCount()),
  });

  private readonly quarantinePending: Gauge = new Gauge({
    name: 'upvest_quarantine_pending',
    help: 'Quarantined payloads not reprocessed yet, read from Postgres at scrape time. Every process reports the same table: aggregate with max.',
    registers: [this.registry],
    collect: () => this.collectBacklog(this.quarantinePending, (backlog) => backlog.quarantinePending()),
  });

  private readonly inboxOldestUnprojected: Gauge = new Gauge({
    name: 'upvest_inbox_oldest_unprojected_seconds',
    help: 'Age of the oldest inbox event (webhook_events) not projected yet, from its receipt, read from Postgres at scrape time; 0 when there is none. Aggregate with max.',
    registers: [this.registry],
    collect: () => this.collectBacklog(this.inboxOldestUnprojected, (backlog) => backlog.oldestUnprojectedSeconds()),
  });

  private readonly projectionJobAttempts = new Counter({
    name: 'upvest_projection_job_attempts_total',
    help: 'Attempts of projection jobs by outcome: completed, retried (failed, will be retried) or failed (failed for good).',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  private readonly projectionLag = new Histogram({
    name: 'upvest_projection_lag_seconds',
    help: "From an event's created_at to the commit of the batch that projected it (applied or superseded events of webhooks).",
    buckets: PROJECTION_LAG_BUCKETS,
    registers: [this.registry],
  });

  private readonly dependencyErrors = new Counter({
    name: 'upvest_dependency_errors_total',
    help: 'Errors of Redis connections and jobs Redis did not take, and failed Postgres operations (deliveries answered 503, projection batches and reads, readiness checks).',
    labelNames: ['dependency'] as const,
    registers: [this.registry],
  });

  private readonly reconciliationRuns = new Counter({
    name: 'upvest_reconciliation_runs_total',
    help: 'Reconciliation runs that completed in this process.',
    registers: [this.registry],
  });

  private readonly reconciliationCorrected = new Counter({
    name: 'upvest_reconciliation_corrected_total',
    help: 'Payments whose status reconciliation corrected because their webhook never arrived.',
    registers: [this.registry],
  });

  private readonly reconciliationOldestNonFinal = new Gauge({
    name: 'upvest_reconciliation_oldest_non_final_seconds',
    help: 'Age of the oldest payment status that is still NEW or PROCESSING, as of the last reconciliation run in this process; 0 when there is none.',
    registers: [this.registry],
  });

  constructor(options: MetricsOptions = {}) {
    this.scrapeReadTimeoutMs = options.scrapeReadTimeoutMs ?? 1000;
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry });
    // Series that alerts use in rate()/increase() exist from the start, at 0.
    for (const outcome of JOB_ATTEMPT_OUTCOMES) this.projectionJobAttempts.inc({ outcome }, 0);
    for (const dependency of DEPENDENCIES) this.dependencyErrors.inc({ dependency }, 0);
    for (const reason of SIGNATURE_FAILURE_REASONS) this.signatureFailures.inc({ reason }, 0);
  }

  /** The exposition content type of `text()`. */
  get contentType(): string {
    return this.registry.contentType;
  }

  /** Everything in the Prometheus text format; reads the queues and the backlog first. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  /** Adds a queue to the `upvest_queue_*` gauges. */
  watchQueue(queue: WatchedQueue): void {
    this.queues.push(queue);
  }

  /** Reads `upvest_quarantine_pending` and `upvest_inbox_oldest_unprojected_seconds` from this source. */
  watchBacklog(backlog: BacklogSource): void {
    this.backlog = backlog;
  }

  httpRequest(method: string, route: string, status: number, seconds: number): void {
    this.httpRequestDuration.observe({ method, route, status: String(status) }, seconds);
  }

  /** `count` events of `type` (as sent; undefined when the event had none) ended with `outcome`. */
  webhookEvents(type: string | undefined, outcome: IngestOutcome, count: number): void {
    this.webhookEventsTotal.inc({ type: eventTypeLabel(type, outcome), outcome }, count);
  }

  conflictingDuplicate(type: string): void {
    this.conflictingDuplicates.inc({ type: eventTypeLabel(type, 'quarantined') });
  }

  eventsRequeued(count: number): void {
    this.inboxRequeued.inc(count);
  }

  redisPolicy(policy: string): void {
    this.redisMaxmemoryPolicy.reset();
    this.redisMaxmemoryPolicy.set({ policy }, 1);
  }

  signatureFailure(reason: SignatureFailureReason): void {
    this.signatureFailures.inc({ reason });
  }

  jobAttempt(outcome: JobAttemptOutcome): void {
    this.projectionJobAttempts.inc({ outcome });
  }

  projectionLagSeconds(seconds: number): void {
    this.projectionLag.observe(seconds);
  }

  dependencyError(dependency: Dependency): void {
    this.dependencyErrors.inc({ dependency });
  }

  reconciliationRun(report: { corrected: number; oldestNonFinalSeconds: number | null }): void {
    this.reconciliationRuns.inc();
    this.reconciliationCorrected.inc(report.corrected);
    this.reconciliationOldestNonFinal.set(report.oldestNonFinalSeconds ?? 0);
  }

  /**
   * Gauge collect(): reads every watched queue, then replaces the gauge's series at once. A queue
   * whose read fails or is late is left out rather than shown stale.
   */
  private async collectPerQueue<T>(gauge: Gauge<string>, read: (queue: WatchedQueue) => Promise<T>, set: (queue: string, value: T) => void): Promise<void> {
    const results = await Promise.all(
      this.queues.map((queue) =>
        this.readInTime(read(queue), queue.name).then(
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

  /** Gauge collect() of a backlog gauge: left out without a backlog, and when Postgres does not answer in time. */
  private async collectBacklog(gauge: Gauge, read: (backlog: BacklogSource) => Promise<number>): Promise<void> {
    const value = this.backlog === undefined ? undefined : await this.readInTime(read(this.backlog), 'postgres').catch(() => undefined);
    // Without labels, reset() leaves a 0, which would read as "nothing pending".
    if (value === undefined) gauge.remove({});
    else gauge.set(value);
  }

  private readInTime<T>(work: Promise<T>, source: string): Promise<T> {
    return withTimeout(work, this.scrapeReadTimeoutMs, () => new Error(`no answer from ${source} within ${this.scrapeReadTimeoutMs} ms`));
  }
}

/** How long the oldest waiting job has waited; 0 when none waits. */
function waitingSeconds(oldest: { timestamp: number; processedOn?: number } | undefined): number {
  if (oldest === undefined) return 0;
  // A retried job keeps the timestamp of its first queueing; it has waited only since its last attempt.
  return Math.max(0, (Date.now() - Math.max(oldest.timestamp, oldest.processedOn ?? 0)) / 1000);
}
