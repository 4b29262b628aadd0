import { randomUUID } from 'node:crypto';
import { eventKey } from '../events/upvestEvents';
import { TraceCarrier } from '../tracing/spans';

/**
 * Name of the jobs that project several inbox events (a delivery's, or those the sweeper found
 * without a job). A job of one event is named after the event's type.
 */
export const BATCH_JOB_NAME = 'batch';

/** An inbox event as a job names it; the type lets a job be split into one job per event without reading Postgres. */
export interface JobEvent {
  id: string;
  type: string;
  /** With tracing on: the trace context (traceparent) of the delivery that brought the event, so that its projection joins that trace. */
  trace?: TraceCarrier;
}

/** The data of every projection job: which inbox rows it projects. The events themselves are in Postgres. */
export interface ProjectionJobData {
  events: JobEvent[];
}

/** A new id for a batch job; it is written on the inbox rows before the job is added. */
export function batchJobId(): string {
  return `batch-${randomUUID()}`;
}

/** The job of one event: one per event id, so that the event's failure is seen, and retried, on its own. */
export function eventJobId(eventId: string): string {
  return eventKey(eventId);
}

/**
 * Jobs the version before the inbox queued: one per event, the whole event in the job, and one
 * per quarantined item. The worker still takes them, so that an upgrade loses none.
 */
export const LEGACY_QUARANTINE_JOB_NAME = 'quarantine';

export interface LegacyEventJobData {
  event: unknown;
  receivedAt: string;
  requestId: string;
}

export interface LegacyQuarantineJobData {
  reason: string;
  contentBase64: string;
  contentSha256: string;
  eventId?: string;
  eventType?: string;
  receivedAt: string;
  requestId: string;
}

/** A job of the version before the inbox, as far as receiving its content needs it. */
export interface LegacyJob {
  id: string;
  name: string;
  data: unknown;
  /** When it was queued (ms since the epoch), if its data has no receivedAt. */
  timestamp: number;
}

/** Receives a legacy job's content into the inbox and answers the events the job is then to project. */
export type LegacyJobReceiver = (job: LegacyJob) => Promise<JobEvent[]>;

/** The event id of a job of one event (as sent, not the lower-cased job id), of either version. */
export function eventIdOf(job: { name: string; data: unknown }): string | undefined {
  if (job.name === BATCH_JOB_NAME) return undefined;
  const data = job.data as (Partial<ProjectionJobData> & Partial<LegacyEventJobData> & Partial<LegacyQuarantineJobData>) | undefined;
  const eventId: unknown = data?.events?.[0]?.id ?? (data?.event as { id?: unknown } | undefined)?.id ?? data?.eventId;
  return typeof eventId === 'string' ? eventId : undefined;
}
