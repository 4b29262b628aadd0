import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { BatchIngestor, IngestMetrics, IngestOutcome } from '../../../src/ingest/BatchIngestor';
import { classifyBatch } from '../../../src/ingest/classifyBatch';
import { batchBody, directDebitEvent, uuid, withdrawalEvent } from '../builders';

const PREFIX = 'test';
const marker = (id: string) => `${PREFIX}:seen-event:${id}`;

/**
 * Stands in for Redis: markers in `seen` exist before the delivery; a SET NX on a marker in
 * `takenConcurrently` loses against another delivery of the same event.
 */
function fakeRedis(seen: Set<string>, takenConcurrently: Set<string> = new Set(), failing = false): Redis {
  return {
    mget: async (keys: string[]) => {
      if (failing) throw new Error('Connection is closed.');
      return keys.map((key) => (seen.has(key) ? '1' : null));
    },
    pipeline: () => {
      const keys: string[] = [];
      const pipeline = {
        set: (key: string) => {
          keys.push(key);
          return pipeline;
        },
        exec: async () => keys.map((key) => [null, takenConcurrently.has(key) ? null : 'OK']),
      };
      return pipeline;
    },
  } as unknown as Redis;
}

const fakeQueue = { addBulk: async () => [] } as unknown as Queue;

/** Records what the ingestor reports, summed by type and outcome. */
class RecordingMetrics implements IngestMetrics {
  readonly counts = new Map<string, number>();
  calls = 0;

  webhookEvents(type: string | undefined, outcome: IngestOutcome, count: number): void {
    this.calls += 1;
    const key = `${type ?? '(none)'} ${outcome}`;
    this.counts.set(key, (this.counts.get(key) ?? 0) + count);
  }

  redisErrors = 0;

  dependencyError(): void {
    this.redisErrors += 1;
  }
}

const context = { requestId: 'request-1', receivedAt: new Date('2026-11-22T10:00:00Z') };

describe('BatchIngestor metrics', () => {
  it('reports every event of an acknowledged batch once, by type and outcome, and answers the same counts as before', async () => {
    const fresh = [1, 2, 3].map((n) => withdrawalEvent({ id: uuid(n) }));
    const alreadySeen = withdrawalEvent({ id: uuid(4), type: 'WITHDRAWAL.PROCESSING' });
    const lostRace = directDebitEvent({ id: uuid(5) });
    const confirmed = directDebitEvent({ id: uuid(6), type: 'DIRECT_DEBIT.CONFIRMED' });
    const foreign = [
      { id: uuid(7), type: 'USER.CREATED' },
      { id: uuid(8), type: 'USER.CREATED' },
      { id: uuid(9), type: 'ORDER.FILLED' },
    ];
    const unknownStatus = withdrawalEvent({ id: uuid(10), type: 'WITHDRAWAL.REFUNDED' });
    const noType = { id: uuid(11) };
    const batch = classifyBatch(batchBody(...fresh, alreadySeen, lostRace, confirmed, ...foreign, unknownStatus, noType));
    const metrics = new RecordingMetrics();
    const ingestor = new BatchIngestor(fakeQueue, fakeRedis(new Set([marker(uuid(4))]), new Set([marker(uuid(5))])), {
      prefix: PREFIX,
      dedupTtlSeconds: 60,
      timeoutMs: 1000,
      metrics,
    });

    const counts = await ingestor.ingest(batch, context);

    expect(counts).toEqual({ accepted: 4, duplicate: 2, ignored: 3, quarantined: 2 });
    expect(Object.fromEntries(metrics.counts)).toEqual({
      'WITHDRAWAL.NEW accepted': 3,
      'WITHDRAWAL.PROCESSING duplicate': 1,
      'DIRECT_DEBIT.NEW duplicate': 1,
      'DIRECT_DEBIT.CONFIRMED accepted': 1,
      'USER.CREATED ignored': 2,
      'ORDER.FILLED ignored': 1,
      'WITHDRAWAL.REFUNDED quarantined': 1,
      '(none) quarantined': 1,
    });
    // One call per type and outcome (and per quarantined item), not per event.
    expect(metrics.calls).toBe(8);
  });

  it('reports a body that is not a batch as one quarantined item without a type', async () => {
    const metrics = new RecordingMetrics();
    const ingestor = new BatchIngestor(fakeQueue, fakeRedis(new Set()), { prefix: PREFIX, dedupTtlSeconds: 60, timeoutMs: 1000, metrics });

    await ingestor.ingest(classifyBatch(Buffer.from('not json')), context);

    expect(Object.fromEntries(metrics.counts)).toEqual({ '(none) quarantined': 1 });
  });

  it('reports no events for a batch Redis did not confirm (its retry is counted), but one Redis error', async () => {
    const metrics = new RecordingMetrics();
    const ingestor = new BatchIngestor(fakeQueue, fakeRedis(new Set(), new Set(), true), { prefix: PREFIX, dedupTtlSeconds: 60, timeoutMs: 1000, metrics });

    await expect(ingestor.ingest(classifyBatch(batchBody(withdrawalEvent())), context)).rejects.toThrow(/Redis failed/);

    expect(metrics.calls).toBe(0);
    expect(metrics.redisErrors).toBe(1);
  });
});
