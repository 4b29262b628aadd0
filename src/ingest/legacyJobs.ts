import { InboxWriter } from '../inbox/InboxWriter';
import { QuarantineItem } from '../quarantine/QuarantineItem';
import { JobEvent, LEGACY_QUARANTINE_JOB_NAME, LegacyEventJobData, LegacyJob, LegacyQuarantineJobData } from '../queue/jobs';
import { classifyBatch } from './classifyBatch';

/**
 * Receives the content of a job queued by the version before the inbox: an event is received
 * into the inbox (validated again, and quarantined if it no longer is valid), a quarantined item
 * is quarantined. Answers the inbox events the job is then to project, like any job. These jobs
 * exist only in queues filled before the upgrade.
 */
export async function receiveLegacyJob(job: LegacyJob, inbox: InboxWriter): Promise<JobEvent[]> {
  const data = job.data as Partial<LegacyEventJobData & LegacyQuarantineJobData>;
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
  // The job itself projects the events: their rows name it.
  await inbox.receive([{ batch, ...context }], job.id);
  return batch.events.map(({ event }) => ({ id: event.id, type: event.type }));
}
