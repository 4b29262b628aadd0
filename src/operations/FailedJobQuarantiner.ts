import { Queue } from 'bullmq';
import { OperatorInbox } from '../inbox/OperatorInbox';
import { quarantineItem } from '../quarantine/QuarantineItem';
import { QuarantineStore } from '../quarantine/QuarantineStore';
import { BATCH_JOB_NAME, eventIdOf, LEGACY_QUARANTINE_JOB_NAME, LegacyEventJobData } from '../queue/jobs';
import { oneLine } from '../shared/oneLine';
import { EventProjectedError, JobNotFailedError, JobNotFoundError, NotAnEventJobError } from './errors';

export interface SetAside {
  /** The quarantined payload that now holds the event. */
  quarantineId: string;
  eventId: string;
}

// A failure reason can hold a whole stack; the quarantine listing needs only its gist.
const REASON_CHARS = 500;

/**
 * Takes a failed event job that cannot succeed out of the queue without losing its event: the
 * event moves from the inbox into quarantine (one statement in Postgres), then the job is
 * removed. Without its inbox row the event is new again, so `quarantine reprocess` later receives
 * it like a fresh delivery. This is how an operator empties the failed set (and clears its alert)
 * when a retry would only fail again.
 */
export class FailedJobQuarantiner {
  constructor(
    private readonly queue: Queue,
    private readonly inbox: OperatorInbox,
    private readonly quarantine: QuarantineStore,
  ) {}

  /** Throws JobNotFoundError, NotAnEventJobError, JobNotFailedError or EventProjectedError when it does not apply. */
  async setAside(id: string): Promise<SetAside> {
    const job = await this.queue.getJob(id);
    if (job === undefined) throw new JobNotFoundError(id);
    const eventId = eventIdOf(job);
    if (job.name === BATCH_JOB_NAME || job.name === LEGACY_QUARANTINE_JOB_NAME || eventId === undefined) throw new NotAnEventJobError(id);
    if (!(await job.isFailed())) throw new JobNotFailedError(id);

    const reason = `set aside by an operator after the job failed: ${oneLine(job.failedReason ?? 'unknown').slice(0, REASON_CHARS)}`;
    const quarantineId = (await this.inbox.setAside(eventId, reason)) ?? (await this.setAsideLegacy(job.data as Partial<LegacyEventJobData>, reason, job.name));
    if (quarantineId === undefined) throw new EventProjectedError(id);
    await job.remove();
    return { quarantineId: quarantineId.toString(), eventId };
  }

  /** A job queued before the inbox that failed before the upgrade: its event is only in the job. */
  private async setAsideLegacy(data: Partial<LegacyEventJobData>, reason: string, type: string): Promise<bigint | undefined> {
    if (data.event === undefined) return undefined;
    const event = data.event as { id?: string };
    return this.quarantine.setAside({
      ...quarantineItem(reason, Buffer.from(JSON.stringify(data.event), 'utf8'), event.id, type),
      receivedAt: new Date(data.receivedAt ?? Date.now()),
      requestId: data.requestId ?? 'unknown',
    });
  }
}
