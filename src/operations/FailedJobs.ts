import { Job, Queue } from 'bullmq';
import { InboxEntry, OperatorInbox } from '../inbox/OperatorInbox';
import { eventIdOf } from '../queue/jobs';
import { JobNotFailedError, JobNotFoundError } from './errors';

/** Which failed jobs an operation applies to; every given condition must hold. */
export interface FailedJobFilter {
  /** The job name, i.e. the event type or `quarantine`: exact, or a prefix when it ends with "." (e.g. "WITHDRAWAL."). */
  type?: string;
  /** Case-insensitive part of the failure reason. */
  failedReasonContains?: string;
}

export interface JobSummary {
  id: string;
  type: string;
  eventId: string | null;
  failedReason: string | null;
  attemptsMade: number;
  createdAt: string;
  processedAt: string | null;
  finishedAt: string | null;
}

export interface JobDetails extends JobSummary {
  state: string;
  data: unknown;
  stacktrace: string[];
  returnValue: unknown;
  /** For the job of one event: the event as received and its state in the inbox (null if it has no row there). */
  inbox?: InboxEntry | null;
}

export interface BulkRetryResult {
  matched: number;
  retried: number;
  /** Jobs that left the failed set between matching and retrying, e.g. retried by someone else. */
  skipped: number;
}

// Failed jobs are read in pages of this size, newest first, and filtered here: BullMQ cannot filter in Redis.
const PAGE_SIZE = 200;

/** The events queue's failed jobs: list, inspect and retry them. */
export class FailedJobs {
  constructor(
    private readonly queue: Queue,
    private readonly inbox: OperatorInbox,
  ) {}

  async list(filter: FailedJobFilter, limit: number, offset: number): Promise<JobSummary[]> {
    const page: JobSummary[] = [];
    let skipped = 0;
    for await (const job of this.matching(filter)) {
      if (skipped < offset) {
        skipped += 1;
        continue;
      }
      page.push(summaryOf(job));
      if (page.length >= limit) break;
    }
    return page;
  }

  /** Any job, in any state; throws JobNotFoundError. */
  async inspect(id: string): Promise<JobDetails> {
    const job = await this.queue.getJob(id);
    if (job === undefined) throw new JobNotFoundError(id);
    const eventId = eventIdOf(job);
    return {
      ...summaryOf(job),
      state: await job.getState(),
      data: job.data,
      stacktrace: job.stacktrace ?? [],
      returnValue: job.returnvalue ?? null,
      ...(eventId === undefined ? {} : { inbox: (await this.inbox.describe(eventId)) ?? null }),
    };
  }

  /** Moves a failed job back to waiting; throws JobNotFoundError, or JobNotFailedError for a job in another state. */
  async retry(id: string): Promise<void> {
    const job = await this.queue.getJob(id);
    if (job === undefined) throw new JobNotFoundError(id);
    if (!(await job.isFailed()) || !(await retryJob(job))) throw new JobNotFailedError(id);
  }

  /** Retries every failed job that matches, at most `limit`. */
  async retryMatching(filter: FailedJobFilter, limit = Number.POSITIVE_INFINITY): Promise<BulkRetryResult> {
    // Collected first: retrying removes jobs from the failed set, which would shift the pages being read.
    const jobs: Job[] = [];
    for await (const job of this.matching(filter)) {
      if (jobs.length >= limit) break;
      jobs.push(job);
    }
    let retried = 0;
    for (const job of jobs) {
      if (await retryJob(job)) retried += 1;
    }
    return { matched: jobs.length, retried, skipped: jobs.length - retried };
  }

  private async *matching(filter: FailedJobFilter): AsyncGenerator<Job> {
    const reason = filter.failedReasonContains?.toLowerCase();
    for (let start = 0; ; start += PAGE_SIZE) {
      const jobs = (await this.queue.getFailed(start, start + PAGE_SIZE - 1)) as Array<Job | undefined>;
      for (const job of jobs) {
        if (job === undefined || !typeMatches(job.name, filter.type)) continue;
        if (reason !== undefined && !(job.failedReason ?? '').toLowerCase().includes(reason)) continue;
        yield job;
      }
      if (jobs.length < PAGE_SIZE) return;
    }
  }
}

function typeMatches(name: string, type: string | undefined): boolean {
  if (type === undefined) return true;
  return type.endsWith('.') ? name.startsWith(type) : name === type;
}

/**
 * Moves a failed job back to waiting with fresh attempts: a job that failed after all its attempts
 * (e.g. a long database outage) deserves the whole back-off again, not a single last try.
 * False when it is no longer failed (retried or removed meanwhile).
 */
async function retryJob(job: Job): Promise<boolean> {
  try {
    await job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
    return true;
  } catch (error) {
    if (await job.isFailed().catch(() => false)) throw error;
    return false;
  }
}

function summaryOf(job: Job): JobSummary {
  return {
    id: job.id as string,
    type: job.name,
    eventId: eventIdOf(job) ?? null,
    failedReason: job.failedReason || null,
    attemptsMade: job.attemptsMade,
    createdAt: new Date(job.timestamp).toISOString(),
    processedAt: isoOrNull(job.processedOn),
    finishedAt: isoOrNull(job.finishedOn),
  };
}

function isoOrNull(epochMs: number | undefined): string | null {
  return epochMs === undefined || epochMs === null ? null : new Date(epochMs).toISOString();
}
