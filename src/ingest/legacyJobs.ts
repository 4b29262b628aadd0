import { Job } from 'bullmq';
import { InboxStore } from '../inbox/InboxStore';
import { classifyBatch } from '../ingest/classifyBatch';
import { QuarantineItem } from '../ingest/quarantineItem';
import { JobEvent, LEGACY_QUARANTINE_JOB_NAME, LegacyEventJobData, LegacyQuarantineJobData, ProjectionJobData } from '../queue/jobs';

/**
 * The inbox events a job is to project. A job queued by the version before the inbox carries its
 * content instead: an event is received into the inbox first (validated again, and quarantined
 * if it no longer is valid), a quarantined item is quarantined; then the job goes on like any.
 * These jobs exist only in queues filled before the upgrade.
 */
export async function jobEvents(job: Job, inbox: InboxStore): Promise<JobEvent[]> {
  const data = job.data as Partial<ProjectionJobData & LegacyEventJobData & LegacyQuarantineJobData>;
  if (data.events !== undefined) return data.events;
  const context = { requestId: data.requestId ?? `job-${job.id}`, receivedAt: new Date(data.receivedAt ?? job.timestamp) };
  if (job.name === LEGACY_QUARANTINE_JOB_NAME) {
    const item: QuarantineItem = {
      reason: data.reason ?? 'quarantined',
      content: Buffer.from(data.contentBase64 ?? '', 'base64'),
      contentSha256: data.contentSha256 ?? '',
      eventId: data.eventId,
      eventType: data.eventType,
    };
    await inbox.quarantine([{ ...item, ...context }]);
    return [];
  }
  const batch = classifyBatch(Buffer.from(JSON.stringify({ payload: [data.event] }), 'utf8'));
  await inbox.receive([{ batch, ...context }], job.id as string);
  return batch.events.map(({ event }) => ({ id: event.id, type: event.type }));
}
