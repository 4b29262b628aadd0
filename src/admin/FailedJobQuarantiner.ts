import { Queue } from 'bullmq';
import { BatchIngestor } from '../ingest/BatchIngestor';
import { quarantineItem } from '../ingest/classifyBatch';
import { QuarantineStore } from '../quarantine/QuarantineStore';
import { EventJobData, QUARANTINE_JOB_NAME } from '../queue/jobs';
import { oneLine } from '../shared/oneLine';

export type SetAsideResult =
  | { outcome: 'set-aside'; quarantineId: string; eventId: string }
  | { outcome: 'not-found' }
  | { outcome: 'not-failed' }
  | { outcome: 'not-an-event' };

// A failure reason can hold a whole stack; the quarantine listing needs only its gist.
const REASON_CHARS = 500;

/**
 * Takes a failed event job that cannot succeed out of the queue without losing its event: the
 * event goes to quarantine first (Postgres), then the job is removed and the event's dedup marker
 * dropped, so that `quarantine reprocess` later queues it like a fresh delivery. This is how an
 * operator empties the failed set (and clears its alert) when a retry would only fail again.
 */
export class FailedJobQuarantiner {
  constructor(
    private readonly queue: Queue,
    private readonly quarantine: QuarantineStore,
    private readonly ingestor: BatchIngestor,
  ) {}

  async setAside(id: string): Promise<SetAsideResult> {
    const job = await this.queue.getJob(id);
    if (job === undefined) return { outcome: 'not-found' };
    if (job.name === QUARANTINE_JOB_NAME) return { outcome: 'not-an-event' };
    if (!(await job.isFailed())) return { outcome: 'not-failed' };

    const data = job.data as EventJobData;
    const event = data.event as { id: string };
    const reason = `set aside by an operator after the job failed: ${oneLine(job.failedReason ?? 'unknown').slice(0, REASON_CHARS)}`;
    const quarantineId = await this.quarantine.setAside({
      ...quarantineItem(reason, Buffer.from(JSON.stringify(data.event), 'utf8'), event.id, job.name),
      receivedAt: new Date(data.receivedAt),
      requestId: data.requestId,
    });
    await job.remove();
    await this.ingestor.forgetEvent(event.id);
    return { outcome: 'set-aside', quarantineId: quarantineId.toString(), eventId: event.id };
  }
}

