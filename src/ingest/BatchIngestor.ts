import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { eventKey, PaymentEvent } from '../events/upvestEvents';
import { withTimeout } from '../shared/withTimeout';
import { EventJobData, QUARANTINE_JOB_NAME, QuarantineJobData } from '../queue/jobs';
import { ClassifiedBatch, QuarantineItem } from './classifyBatch';

export interface IngestCounts {
  accepted: number;
  duplicate: number;
  ignored: number;
  quarantined: number;
}

export type IngestOutcome = keyof IngestCounts;

/** Told, once Redis confirmed a batch, how many of its events of each type ended how. */
export interface IngestMetrics {
  /** `type` as sent, undefined for content without one (a body that is not a batch, an event without a type). */
  webhookEvents(type: string | undefined, outcome: IngestOutcome, count: number): void;
  dependencyError(dependency: 'redis'): void;
}

export interface IngestContext {
  requestId: string;
  receivedAt: Date;
}

/** Redis did not confirm the batch in time; nothing may be acknowledged, the provider must retry. */
export class IngestUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'IngestUnavailableError';
  }
}

/**
 * Makes a classified batch durable in Redis. Each event becomes one job whose id is the event id,
 * so concurrent deliveries of the same event create one job. A marker key per event, written only
 * after its job was added, lets later deliveries skip it and report it as a duplicate after the job
 * itself has been removed; webhook_events in Postgres is the last line of deduplication.
 */
export class BatchIngestor {
  constructor(
    private readonly queue: Queue,
    private readonly redis: Redis,
    private readonly options: { prefix: string; dedupTtlSeconds: number; timeoutMs: number; metrics?: IngestMetrics },
  ) {}

  async ingest(batch: ClassifiedBatch, context: IngestContext): Promise<IngestCounts> {
    const { timeoutMs } = this.options;
    let enqueued: Enqueued;
    try {
      enqueued = await withTimeout(
        this.enqueue(batch, context),
        timeoutMs,
        () => new IngestUnavailableError(`Redis did not confirm the batch within ${timeoutMs} ms`),
      );
    } catch (error) {
      // Also when Redis hangs rather than refuses: then its connection reports no error of its own.
      this.options.metrics?.dependencyError('redis');
      if (error instanceof IngestUnavailableError) throw error;
      throw new IngestUnavailableError(`Redis failed: ${(error as Error).message}`, { cause: error });
    }
    // Only what was acknowledged counts: a batch answered 503 comes again and is counted then.
    if (this.options.metrics !== undefined) report(this.options.metrics, batch, enqueued.accepted);
    return enqueued.counts;
  }

  private async enqueue(batch: ClassifiedBatch, context: IngestContext): Promise<Enqueued> {
    const { events } = batch;
    const keys = events.map((event) => eventKey(event.id));
    const seen = keys.length > 0 ? await this.redis.mget(keys.map((key) => this.markerKey(key))) : [];
    const fresh = events.flatMap((event, index) => (seen[index] === null ? [{ event, key: keys[index] }] : []));
    const receivedAt = context.receivedAt.toISOString();

    const jobs = [
      ...fresh.map(({ event, key }) => ({
        name: event.type,
        data: { event, receivedAt, requestId: context.requestId } satisfies EventJobData,
        opts: { jobId: key },
      })),
      ...batch.quarantined.map((item) => ({
        name: QUARANTINE_JOB_NAME,
        data: quarantineJobData(item, receivedAt, context.requestId),
        opts: { jobId: `quarantine-${item.contentSha256}` },
      })),
    ];
    if (jobs.length > 0) await this.queue.addBulk(jobs);

    const accepted = fresh.length > 0 ? await this.markAccepted(fresh) : new Set<PaymentEvent>();
    const counts = {
      accepted: accepted.size,
      duplicate: events.length - accepted.size,
      ignored: [...batch.ignored.values()].reduce((sum, count) => sum + count, 0),
      quarantined: batch.quarantined.length,
    };
    return { counts, accepted };
  }

  /**
   * Sets the markers and returns the events this delivery accepted: a marker that another delivery
   * set first means that delivery accepted the event.
   */
  private async markAccepted(events: Array<{ event: PaymentEvent; key: string }>): Promise<Set<PaymentEvent>> {
    const pipeline = this.redis.pipeline();
    for (const { key } of events) pipeline.set(this.markerKey(key), '1', 'EX', this.options.dedupTtlSeconds, 'NX');
    const results = (await pipeline.exec()) ?? [];
    const accepted = new Set<PaymentEvent>();
    results.forEach(([error, result], index) => {
      if (error) throw error;
      if (result === 'OK') accepted.add(events[index].event);
    });
    return accepted;
  }

  /**
   * Drops the event's marker, so that the event is accepted again when it comes back: for an event
   * an operator took out of the queue (into quarantine) to re-process it later.
   */
  async forgetEvent(eventId: string): Promise<void> {
    await this.redis.del(this.markerKey(eventKey(eventId)));
  }

  /** `key`: the event's eventKey. */
  private markerKey(key: string): string {
    return `${this.options.prefix}:seen-event:${key}`;
  }
}

interface Enqueued {
  counts: IngestCounts;
  /** The events this delivery accepted; the batch's other events were duplicates. */
  accepted: Set<PaymentEvent>;
}

/** Per type and outcome, for the metrics. A batch holds few types, often one, so the tally stays tiny. */
function report(metrics: IngestMetrics, batch: ClassifiedBatch, accepted: Set<PaymentEvent>): void {
  const tally = new Map<string, { accepted: number; duplicate: number }>();
  for (const event of batch.events) {
    let counts = tally.get(event.type);
    if (counts === undefined) tally.set(event.type, (counts = { accepted: 0, duplicate: 0 }));
    if (accepted.has(event)) counts.accepted += 1;
    else counts.duplicate += 1;
  }
  for (const [type, counts] of tally) {
    if (counts.accepted > 0) metrics.webhookEvents(type, 'accepted', counts.accepted);
    if (counts.duplicate > 0) metrics.webhookEvents(type, 'duplicate', counts.duplicate);
  }
  for (const [type, count] of batch.ignored) metrics.webhookEvents(type, 'ignored', count);
  for (const item of batch.quarantined) metrics.webhookEvents(item.eventType, 'quarantined', 1);
}

function quarantineJobData(item: QuarantineItem, receivedAt: string, requestId: string): QuarantineJobData {
  return {
    reason: item.reason,
    contentBase64: item.content.toString('base64'),
    contentSha256: item.contentSha256,
    eventId: item.eventId,
    eventType: item.eventType,
    receivedAt,
    requestId,
  };
}
