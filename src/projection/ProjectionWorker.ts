import { SpanKind } from '@opentelemetry/api';
import { Job, UnrecoverableError, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { ReceivedEvent } from '../events/receivedEvent';
import { eventKey } from '../events/upvestEvents';
import { WorkerInbox } from '../inbox/WorkerInbox';
import { Logger } from '../logging/logger';
import { BATCH_JOB_NAME, eventIdOf, JobEvent, LegacyJobReceiver, ProjectionJobData } from '../queue/jobs';
import { ProjectionJobs } from '../queue/ProjectionJobs';
import { projectionBackoffStrategy, RetryPolicy } from '../queue/retryPolicy';
import { inBatches } from '../shared/inBatches';
import { contextOf, inSpan } from '../tracing/spans';
import { PermanentProjectionError, TransientProjectionError } from './errors';
import { EventPermits } from './EventPermits';
import { ProjectionBatcher } from './ProjectionBatcher';
import { ProjectionMetrics } from './projectionMetrics';
import { EventOutcome, ProjectionStore } from './ProjectionStore';

/**
 * Events the jobs of a worker hold in memory at once, in batches (PROJECTION_BATCH_SIZE): one batch
 * being written while the next one fills. Measured on the bench's drain, 4 batches instead of 2
 * drained no faster and cost 7 MB more peak RSS.
 */
const EVENTS_IN_FLIGHT_PER_BATCH = 2;

export interface ProjectionWorkerOptions {
  /** The worker's own connection: BullMQ's blocking commands need one that retries forever. */
  connection: Redis;
  concurrency: number;
  batchSize: number;
  batchWaitMs: number;
  /** The policy the events queue gives its jobs; the worker applies its back-off. */
  retryPolicy: RetryPolicy;
  lockDurationMs: number;
  /** Receives the content of a job queued before the inbox (ingest/legacyJobs.ts), which names no inbox rows. */
  receiveLegacyJob: LegacyJobReceiver;
  metrics?: ProjectionMetrics;
}

/** What one job did with its events; BullMQ keeps it as the job's return value. */
export type JobResult = Record<EventOutcome | 'split', number>;

/**
 * Consumes the events queue. A job names inbox rows; the worker reads their events from
 * Postgres and projects them in batches shared with the other jobs it holds. A failure stays
 * with its event: an event that cannot be projected leaves its batch job for a job of its own,
 * which then fails for good, alone, where an operator sees and retries it. A batch job that
 * runs out of attempts (a long outage) splits into one job per event likewise.
 */
export class ProjectionWorker {
  private readonly worker: Worker;
  private readonly batcher: ProjectionBatcher;
  private readonly permits: EventPermits;

  constructor(
    store: ProjectionStore,
    private readonly inbox: WorkerInbox,
    private readonly jobs: ProjectionJobs,
    private readonly logger: Logger,
    private readonly options: ProjectionWorkerOptions,
  ) {
    const { metrics } = options;
    this.batcher = new ProjectionBatcher(store, options.batchSize, options.batchWaitMs, metrics);
    // Enough events in flight to keep a few full batches going, not the whole backlog of every job held.
    this.permits = new EventPermits(EVENTS_IN_FLIGHT_PER_BATCH * options.batchSize);
    this.worker = new Worker(jobs.queue.name, (job) => this.process(job), {
      connection: options.connection,
      prefix: jobs.queue.opts.prefix,
      concurrency: options.concurrency,
      autorun: false,
      lockDuration: options.lockDurationMs,
      stalledInterval: options.lockDurationMs,
      // A job whose worker died is retried; only a job that keeps killing workers ends up failed.
      maxStalledCount: 10,
      settings: { backoffStrategy: projectionBackoffStrategy(options.retryPolicy) },
    });
    this.worker.on('failed', (job, error) => {
      const final = job === undefined || error instanceof UnrecoverableError || job.attemptsMade >= (job.opts.attempts ?? 1);
      metrics?.jobAttempt(final ? 'failed' : 'retried');
      const logger = job === undefined ? this.logger : this.jobLogger(job);
      logger.log(final ? 'error' : 'warn', final ? 'job failed for good' : 'job failed, will retry', {
        jobName: job?.name,
        attemptsMade: job?.attemptsMade,
        error: error.message,
      });
    });
    if (metrics !== undefined) this.worker.on('completed', () => metrics.jobAttempt('completed'));
    // Mostly Redis connection errors of the worker's own connections; BullMQ recovers from them.
    this.worker.on('error', (error) => this.logger.warn('worker error', { error: error.message }));
  }

  start(): void {
    void this.worker.run();
  }

  /** Stops taking jobs and waits for the active ones (and so for their batch) to finish. */
  async close(): Promise<void> {
    await this.worker.close();
  }

  /** Every line about a job carries its jobId and, for a job of one event, the event's id. */
  private jobLogger(job: Job): Logger {
    return this.logger.child({ jobId: job.id, eventId: eventIdOf(job) });
  }

  private async process(job: Job): Promise<JobResult> {
    const events = await this.jobEvents(job);
    const result: JobResult = { applied: 0, superseded: 0, duplicate: 0, split: 0 };
    const failed: Array<{ event: JobEvent; error: Error }> = [];
    try {
      // A chunk at a time, and only with permits for its events: memory stays bounded however big the jobs are.
      for (const chunk of inBatches(events, this.options.batchSize)) {
        const permits = await this.permits.take(chunk.length);
        try {
          const received = await this.inbox.unprojected(chunk.map((event) => event.id)).catch((error: Error) => {
            this.options.metrics?.dependencyError('postgres');
            throw error;
          });
          result.duplicate += chunk.length - received.length;
          failed.push(...(await this.projectAll(received, chunk, result)));
        } finally {
          this.permits.give(permits);
        }
      }
    } catch (error) {
      return this.afterTransientFailure(job, events, error);
    }
    if (failed.length === 0) return result;
    if (job.name !== BATCH_JOB_NAME) {
      const [{ event, error }] = failed;
      await this.inbox.recordFailure([event.id], error.message, true);
      throw new UnrecoverableError(error.message);
    }
    // Each into a job of its own, where it fails for good alone; its siblings are done.
    await this.splitIntoOwnJobs(
      failed.map(({ event }) => event),
      remainingAttempts(job),
    );
    this.jobLogger(job).warn('events that cannot be projected moved to jobs of their own', {
      events: failed.map(({ event, error }) => ({ eventId: event.id, error: error.message })),
    });
    result.split = failed.length;
    return result;
  }

  /** The inbox events a job names; a job queued before the inbox carries its content instead, which is received first. */
  private async jobEvents(job: Job): Promise<JobEvent[]> {
    const { events } = job.data as Partial<ProjectionJobData>;
    return events ?? this.options.receiveLegacyJob({ id: job.id as string, name: job.name, data: job.data, timestamp: job.timestamp });
  }

  /** Projects the events (`named`: as the job names them); returns those that can never be projected. A transient failure throws. */
  private async projectAll(received: ReceivedEvent[], named: JobEvent[], result: JobResult): Promise<Array<{ event: JobEvent; error: Error }>> {
    const byKey = new Map(named.map((event) => [eventKey(event.id), event]));
    const outcomes = await Promise.allSettled(received.map((event) => this.project(event, byKey.get(eventKey(event.event.id)))));
    const failed: Array<{ event: JobEvent; error: Error }> = [];
    outcomes.forEach((outcome, index) => {
      if (outcome.status === 'fulfilled') {
        result[outcome.value] += 1;
        return;
      }
      if (!(outcome.reason instanceof PermanentProjectionError)) throw outcome.reason;
      const { event } = received[index];
      failed.push({ event: byKey.get(eventKey(event.id)) ?? { id: event.id, type: event.type }, error: outcome.reason });
    });
    return failed;
  }

  /** One event's projection, in the trace of the delivery that brought it when its job carries that. */
  private project(received: ReceivedEvent, named: JobEvent | undefined): Promise<EventOutcome> {
    const { event } = received;
    const attributes = { 'upvest.event.id': event.id, 'upvest.event.type': event.type, 'upvest.payment.id': event.object.id };
    return inSpan(
      'project event',
      { kind: SpanKind.CONSUMER, attributes },
      async (span) => {
        const outcome = await this.batcher.project(received);
        span.setAttribute('projection.outcome', outcome);
        return outcome;
      },
      contextOf(named?.trace),
    );
  }

  /**
   * The database failed (or something unforeseen did). The attempt is recorded on the events if
   * Postgres takes it, and the job is retried; a batch job that has no attempt left splits into
   * one job per event, so that each fails, and is retried, on its own.
   */
  private async afterTransientFailure(job: Job, events: JobEvent[], failure: unknown): Promise<JobResult> {
    const error = new TransientProjectionError(failure);
    const lastAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
    const ids = events.map((event) => event.id);
    await this.inbox.recordFailure(ids, error.message, lastAttempt && job.name !== BATCH_JOB_NAME).catch(() => undefined);
    if (!lastAttempt || job.name !== BATCH_JOB_NAME) throw error;
    await this.splitIntoOwnJobs(events, 1);
    this.jobLogger(job).error('batch job out of attempts, split into one job per event', { events: events.length, error: error.message });
    return { applied: 0, superseded: 0, duplicate: 0, split: events.length };
  }

  /**
   * Gives each event a job of its own. Their rows name it first, where Postgres takes that (not
   * during an outage): the sweeper then sees them held without asking Redis about each.
   */
  private async splitIntoOwnJobs(events: JobEvent[], attempts: number): Promise<void> {
    await this.inbox.assignOwnJobs(events.map((event) => event.id)).catch(() => undefined);
    await this.jobs.addPerEvent(events, attempts);
  }
}

/** The attempts a job had left after this one, at least 1: what the jobs split from it get. */
function remainingAttempts(job: Job): number {
  return Math.max(1, (job.opts.attempts ?? 1) - job.attemptsMade - 1);
}
