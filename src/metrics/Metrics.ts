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

/** What the queue gauge reads on each scrape: a BullMQ Queue fits. */
export interface JobCountsSource {
  readonly name: string;
  getJobCounts(...types: QueueJobState[]): Promise<Partial<Record<string, number>>>;
}

export interface MetricsOptions {
  /** Longest wait for Redis's job counts during a scrape; the queue's series are left out after it. Default 1000 ms. */
  queueCountsTimeoutMs?: number;
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
  private readonly queues: JobCountsSource[] = [];
  private readonly queueCountsTimeoutMs: number;

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

  private readonly queueJobs = new Gauge({
    name: 'upvest_queue_jobs',
    help: 'Jobs in a BullMQ queue by state, read from Redis at scrape time. Every process reports the same shared queues: aggregate with max, not sum.',
    labelNames: ['queue', 'state'] as const,
    registers: [this.registry],
    collect: () => this.collectQueueJobs(),
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
    this.queueCountsTimeoutMs = options.queueCountsTimeoutMs ?? 1000;
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

  /** Everything in the Prometheus text format; reads the queue counts first. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  /** Adds a queue to `upvest_queue_jobs`. */
  watchQueue(queue: JobCountsSource): void {
    this.queues.push(queue);
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
    this.reconciliationCorrected.inc(report.corrected);
    this.reconciliationOldestNonFinal.set(report.oldestNonFinalSeconds ?? 0);
  }

  /** Gauge collect(): a queue whose counts do not arrive in time is left out rather than shown stale. */
  private async collectQueueJobs(): Promise<void> {
    await Promise.all(
      this.queues.map(async (queue) => {
        try {
          const counts = await withTimeout(
            queue.getJobCounts(...QUEUE_JOB_STATES),
            this.queueCountsTimeoutMs,
            () => new Error(`no job counts within ${this.queueCountsTimeoutMs} ms`),
          );
          for (const state of QUEUE_JOB_STATES) this.queueJobs.set({ queue: queue.name, state }, counts[state] ?? 0);
        } catch {
          for (const state of QUEUE_JOB_STATES) this.queueJobs.remove({ queue: queue.name, state });
        }
      }),
    );
  }
}
