import { Delivery } from '../../src/inbox/delivery';
import { InboxCommitter } from '../../src/inbox/InboxCommitter';
import { InboxWriter, ReceivedBatch } from '../../src/inbox/InboxWriter';
import { DeliveryReceiver } from '../../src/ingest/DeliveryReceiver';
import { IngestUnavailableError } from '../../src/ingest/errors';
import { IngestMetrics, IngestOutcome } from '../../src/ingest/ingestMetrics';
import { createLogger } from '../../src/logging/logger';
import { ProjectionJobs } from '../../src/queue/ProjectionJobs';
import { batchBody, directDebitEvent, uuid, withdrawalEvent } from '../../testkit/paymentEvents';

/**
 * Stands in for the inbox: `stored` holds the events it had before the delivery (by lower-case
 * id, as JSON text); content hashes in `quarantinedBefore` are not added to quarantine again.
 */
function fakeInbox(stored: Map<string, string> = new Map(), quarantinedBefore: Set<string> = new Set(), failure?: Error): InboxWriter {
  const newContent = (hashes: string[]) => new Set(hashes.filter((hash) => !quarantinedBefore.has(hash)));
  return {
    receive: async (deliveries: Delivery[]): Promise<ReceivedBatch[]> => {
      if (failure !== undefined) throw failure;
      return deliveries.map(({ batch }) => ({
        added: new Set(batch.events.map(({ event }) => event.id.toLowerCase()).filter((key) => !stored.has(key))),
        quarantined: newContent(batch.quarantined.map((item) => item.contentSha256)),
      }));
    },
    storedEvents: async (ids: string[]) => new Map(ids.map((id) => id.toLowerCase()).flatMap((key) => (stored.has(key) ? [[key, stored.get(key) as string]] : []))),
    quarantine: async (items: Array<{ contentSha256: string }>) => newContent(items.map((item) => item.contentSha256)),
  } as unknown as InboxWriter;
}

const jobs = { addBatch: async () => undefined } as unknown as ProjectionJobs;

/** Records what the receiver reports, summed by type and outcome. */
class RecordingMetrics implements IngestMetrics {
  readonly counts = new Map<string, number>();
  readonly conflicts: string[] = [];
  readonly dependencyErrors: string[] = [];
  calls = 0;

  webhookEvents(type: string | undefined, outcome: IngestOutcome, count: number): void {
    this.calls += 1;
    const key = `${type ?? '(none)'} ${outcome}`;
    this.counts.set(key, (this.counts.get(key) ?? 0) + count);
  }

  conflictingDuplicate(type: string): void {
    this.conflicts.push(type);
  }

  dependencyError(dependency: string): void {
    this.dependencyErrors.push(dependency);
  }
}

const context = { requestId: 'request-1', receivedAt: new Date('2026-11-22T10:00:00Z') };
const logger = createLogger('error', true);

function receiver(inbox: InboxWriter, metrics: IngestMetrics): DeliveryReceiver {
  return new DeliveryReceiver(new InboxCommitter(inbox, jobs, { logger }), inbox, { timeoutMs: 1000, metrics });
}

describe('DeliveryReceiver counts and metrics', () => {
  it('reports every event of a committed batch once, by type and outcome, in counts that add up to the events sent', async () => {
    const fresh = [1, 2, 3].map((n) => withdrawalEvent({ id: uuid(n) }));
    const alreadyStored = withdrawalEvent({ id: uuid(4), type: 'WITHDRAWAL.PROCESSING' });
    const conflicting = directDebitEvent({ id: uuid(5), object: { remittance_information: 'another version' } });
    const confirmed = directDebitEvent({ id: uuid(6), type: 'DIRECT_DEBIT.CONFIRMED' });
    const foreign = [
      { id: uuid(7), type: 'USER.CREATED' },
      { id: uuid(8), type: 'USER.CREATED' },
      { id: uuid(9), type: 'ORDER.FILLED' },
    ];
    const unknownStatus = withdrawalEvent({ id: uuid(10), type: 'WITHDRAWAL.REFUNDED' });
    const noType = { id: uuid(11) };
    const sent = [...fresh, alreadyStored, conflicting, confirmed, ...foreign, unknownStatus, noType, fresh[0]];
    const stored = new Map([
      [uuid(4), JSON.stringify(alreadyStored)],
      [uuid(5), JSON.stringify(directDebitEvent({ id: uuid(5) }))],
    ]);
    const metrics = new RecordingMetrics();

    const { counts, quarantined } = await receiver(fakeInbox(stored), metrics).receive(batchBody(...sent), context);

    expect(counts).toEqual({ accepted: 4, duplicate: 2, ignored: 3, quarantined: 3 });
    expect(counts.accepted + counts.duplicate + counts.ignored + counts.quarantined).toBe(sent.length);
    expect(quarantined.map((item) => item.reason)).toEqual(['unknown event type WITHDRAWAL.REFUNDED', 'event has no string "type"', 'conflicting_duplicate']);
    expect(Object.fromEntries(metrics.counts)).toEqual({
      'WITHDRAWAL.NEW accepted': 3,
      'WITHDRAWAL.NEW duplicate': 1,
      'WITHDRAWAL.PROCESSING duplicate': 1,
      'DIRECT_DEBIT.CONFIRMED accepted': 1,
      'USER.CREATED ignored': 2,
      'ORDER.FILLED ignored': 1,
      'WITHDRAWAL.REFUNDED quarantined': 1,
      '(none) quarantined': 1,
      'DIRECT_DEBIT.NEW quarantined': 1,
    });
    expect(metrics.conflicts).toEqual(['DIRECT_DEBIT.NEW']);
  });

  it('counts a conflicting copy quarantined before as quarantined again, but reports and returns it only the first time', async () => {
    const event = withdrawalEvent({ id: uuid(1), object: { amount: '1.00' } });
    const stored = new Map([[uuid(1), JSON.stringify(withdrawalEvent({ id: uuid(1) }))]]);
    const batch = batchBody(event);
    const first = new RecordingMetrics();
    const { quarantined } = await receiver(fakeInbox(stored), first).receive(batch, context);
    const again = new RecordingMetrics();

    const retried = await receiver(fakeInbox(stored, new Set(quarantined.map((item) => item.contentSha256))), again).receive(batch, context);

    expect(retried.counts).toEqual({ accepted: 0, duplicate: 0, ignored: 0, quarantined: 1 });
    expect(retried.quarantined).toEqual([]);
    expect(first.conflicts).toEqual(['WITHDRAWAL.NEW']);
    expect(again.conflicts).toEqual([]);
  });

  it('counts every unusable element, but returns each distinct content once, to be logged once', async () => {
    const metrics = new RecordingMetrics();
    const tiny = { type: 'WITHDRAWAL.NEW', id: 'n' };

    const { counts, quarantined } = await receiver(fakeInbox(), metrics).receive(batchBody(tiny, tiny, tiny), context);

    expect(counts).toEqual({ accepted: 0, duplicate: 0, ignored: 0, quarantined: 3 });
    expect(quarantined).toHaveLength(1);
    expect(Object.fromEntries(metrics.counts)).toEqual({ 'WITHDRAWAL.NEW quarantined': 3 });
  });

  it('reports a body that is not a batch as one quarantined item without a type', async () => {
    const metrics = new RecordingMetrics();

    await receiver(fakeInbox(), metrics).receive(Buffer.from('not json'), context);

    expect(Object.fromEntries(metrics.counts)).toEqual({ '(none) quarantined': 1 });
  });

  it('reports no events for a delivery Postgres did not commit (its retry is counted), but one Postgres error', async () => {
    const metrics = new RecordingMetrics();
    const inbox = fakeInbox(new Map(), new Set(), new Error('Connection terminated unexpectedly'));

    await expect(receiver(inbox, metrics).receive(batchBody(withdrawalEvent()), context)).rejects.toThrow(IngestUnavailableError);

    expect(metrics.calls).toBe(0);
    expect(metrics.dependencyErrors).toEqual(['postgres']);
  });

  it('quarantines the whole body, and answers, when Postgres refuses the content itself', async () => {
    const metrics = new RecordingMetrics();
    const tooDeep = Object.assign(new Error('stack depth limit exceeded'), { code: '54001' });
    const body = batchBody(withdrawalEvent({ id: uuid(1) }), { id: uuid(2), type: 'USER.CREATED' });

    const { counts, quarantined } = await receiver(fakeInbox(new Map(), new Set(), tooDeep), metrics).receive(body, context);

    expect(counts).toEqual({ accepted: 0, duplicate: 0, ignored: 0, quarantined: 1 });
    expect(quarantined).toHaveLength(1);
    expect(quarantined[0].reason).toBe('the inbox refused the batch: stack depth limit exceeded');
    expect(quarantined[0].content.equals(body)).toBe(true);
    expect(Object.fromEntries(metrics.counts)).toEqual({ '(none) quarantined': 1 });
  });
});
