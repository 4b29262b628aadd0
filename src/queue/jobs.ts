import { JobsOptions } from 'bullmq';

/** The one queue between the webhook endpoint and the projection worker. */
export const EVENTS_QUEUE_NAME = 'upvest-events';

/** Job name of quarantine jobs; event jobs are named after their event type. */
export const QUARANTINE_JOB_NAME = 'quarantine';

export interface EventJobData {
  /** The event exactly as validated at the edge, unknown fields included. */
  event: unknown;
  receivedAt: string;
  requestId: string;
}

export interface QuarantineJobData {
  reason: string;
  contentBase64: string;
  contentSha256: string;
  eventId?: string;
  eventType?: string;
  receivedAt: string;
  requestId: string;
}

/** The event id of an event job (as sent, not the lower-cased job id), or of the event a quarantine job holds, if it had one. */
export function eventIdOf(job: { name: string; data: unknown }): string | undefined {
  const eventId: unknown =
    job.name === QUARANTINE_JOB_NAME
      ? (job.data as Partial<QuarantineJobData> | undefined)?.eventId
      : ((job.data as Partial<EventJobData> | undefined)?.event as { id?: unknown } | undefined)?.id;
  return typeof eventId === 'string' ? eventId : undefined;
}

export const RETRY_BACKOFF_TYPE = 'capped-exponential-jitter';

export function defaultJobOptions(attempts: number): JobsOptions {
  return {
    attempts,
    backoff: { type: RETRY_BACKOFF_TYPE },
    // Completed jobs go soon: the marker keys and webhook_events deduplicate beyond them.
    removeOnComplete: { age: 3600, count: 10000 },
    // Failed jobs stay, with their reason, until an operator retries or removes them.
    removeOnFail: false,
  };
}
