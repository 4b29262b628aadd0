import { Job, UnrecoverableError, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { isPermanentDatabaseError } from '../database/databaseErrors';
import { PaymentEvent, paymentKindOf, schemaFor } from '../events/upvestEvents';
import { Logger } from '../logging/logger';
import { QuarantineStore } from '../quarantine/QuarantineStore';
import { EVENTS_QUEUE_NAME, EventJobData, eventIdOf, QUARANTINE_JOB_NAME, QuarantineJobData, RETRY_BACKOFF_TYPE } from '../queue/jobs';
import { PermanentProjectionError, ProjectionBatcher, ProjectionBatchMetrics } from './ProjectionBatcher';
import { ProjectionStore } from './ProjectionStore';
import { retryDelayMs } from '../shared/retryBackoff';

export interface ProjectionWorkerOptions {
  connection: Redis;
  prefix: string;
  concurrency: number;
  batchSize: number;
  batchWaitMs: number;
  backoffMs: number;
  backoffMaxMs: number;
  lockDurationMs: number;
  metrics?: ProjectionMetrics;
}

/** Completed, retried (failed, another attempt follows) or failed for good. */
export type JobAttemptOutcome = 'completed' | 'retried' | 'failed';

/** What the worker reports, besides what its batches report. */
export interface ProjectionMetrics extends ProjectionBatchMetrics {
  /** Once per job attempt. */
  jobAttempt(outcome: JobAttemptOutcome): void;
}

/** Consumes the events queue: projects event jobs in batches and files quarantine jobs. */
export class ProjectionWorker {
  private readonly worker: Worker;
  private readonly batcher: ProjectionBatcher;
  private readonly metrics: ProjectionMetrics | undefined;

  constructor(
    store: ProjectionStore,
    private readonly quarantine: QuarantineStore,
    private readonly logger: Logger,
    options: ProjectionWorkerOptions,
  ) {
    const { metrics } = options;
    this.metrics = metrics;
    this.batcher = new ProjectionBatcher(store, options.batchSize, options.batchWaitMs, metrics);
    this.worker = new Worker(EVENTS_QUEUE_NAME, (job) => this.process(job), {
      connection: options.connection,
      prefix: options.prefix,
      concurrency: options.concurrency,
      autorun: false,
      lockDuration: options.lockDurationMs,
      stalledInterval: options.lockDurationMs,
      // A job whose worker died is retried; only a job that keeps killing workers ends up failed.
      maxStalledCount: 10,
      settings: {
        backoffStrategy: (attemptsMade, type) =>
          type === RETRY_BACKOFF_TYPE ? retryDelayMs(attemptsMade, options.backoffMs, options.backoffMaxMs) : -1,
      },
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

  /** Every line about a job carries its jobId and the id of its event. */
  private jobLogger(job: Job): Logger {
    return this.logger.child({ jobId: job.id, eventId: eventIdOf(job) });
  }

  private async process(job: Job): Promise<string> {
    if (job.name === QUARANTINE_JOB_NAME) {
      const data = job.data as QuarantineJobData;
      await this.saveQuarantined(data);
      return 'quarantined';
    }
    const data = job.data as EventJobData;
    const event = parseEvent(data.event);
    try {
      return await this.batcher.project({ event, receivedAt: data.receivedAt });
    } catch (error) {
      if (error instanceof PermanentProjectionError) throw new UnrecoverableError(error.message);
      throw error;
    }
  }

  private async saveQuarantined(data: QuarantineJobData): Promise<void> {
    try {
      await this.quarantine.save({
        reason: data.reason,
        content: Buffer.from(data.contentBase64, 'base64'),
        contentSha256: data.contentSha256,
        eventId: data.eventId,
        eventType: data.eventType,
        receivedAt: new Date(data.receivedAt),
        requestId: data.requestId,
      });
    } catch (error) {
      if (!isPermanentDatabaseError(error)) this.metrics?.dependencyError('postgres');
      throw error;
    }
  }
}

/** Jobs were validated at the edge; one that no longer parses was written by something else and cannot succeed. */
function parseEvent(candidate: unknown): PaymentEvent {
  const type = (candidate as { type?: unknown })?.type;
  const kind = typeof type === 'string' ? paymentKindOf(type) : undefined;
  const result = kind === undefined ? undefined : schemaFor(kind).safeParse(candidate);
  if (result === undefined || !result.success) {
    throw new UnrecoverableError(`job data is not a valid withdrawal or direct-debit event (type ${String(type)})`);
  }
  return result.data as PaymentEvent;
}
