import { isDeepStrictEqual } from 'node:util';
import { isPermanentDatabaseError } from '../database/databaseErrors';
import { eventKey, PaymentEvent } from '../events/upvestEvents';
import { ClassifiedBatch, Delivery } from '../inbox/delivery';
import { InboxCommitter } from '../inbox/InboxCommitter';
import { InboxWriter, ReceivedBatch } from '../inbox/InboxWriter';
import { QuarantineItem, quarantineItem } from '../quarantine/QuarantineItem';
import { withTimeout } from '../shared/withTimeout';
import { classifyBatch, CONFLICTING_DUPLICATE } from './classifyBatch';
import { IngestUnavailableError } from './errors';
import { IngestMetrics, IngestOutcome } from './ingestMetrics';

/** The answer to a delivery: how many of its elements ended how. They add up to the elements of the batch (or to 1 for a body that is not a batch). */
export type IngestCounts = Record<IngestOutcome, number>;

/** Where a delivery's content came from: the request that brought it, and when. */
export interface DeliveryContext {
  requestId: string;
  receivedAt: Date;
}

export interface ReceiveResult {
  counts: IngestCounts;
  /** What this delivery added to quarantine, once per distinct content; content quarantined before is not added, nor logged, again. */
  quarantined: QuarantineItem[];
}

export interface DeliveryReceiverOptions {
  /** Longest wait for Postgres to commit a delivery. */
  timeoutMs: number;
  metrics?: IngestMetrics;
}

/** What a delivery changed in Postgres. */
interface Committed {
  /** The batch's events that the inbox did not have. */
  added: PaymentEvent[];
  /** Copies of events the inbox had with other content. */
  conflicting: PaymentEvent[];
  /** Content hashes of the quarantine rows this delivery added. */
  quarantined: Set<string>;
  /** The quarantine items of the delivery: the batch's own and the conflicting copies, or the whole body. */
  quarantineItems: QuarantineItem[];
  /** The inbox refused the batch's content, so the whole body went to quarantine instead. */
  bodyRefused: boolean;
}

/**
 * Receives the content of an authentic delivery: the one use case behind the webhook endpoint and
 * quarantine reprocessing. It sorts the body (classifyBatch), then makes it durable: its new
 * events, and what is quarantined, are committed in Postgres before the answer (by the
 * InboxCommitter, which then queues their job), so a 200 never depends on Redis. Tells which
 * events were new, which duplicates, and which conflicting copies.
 */
export class DeliveryReceiver {
  constructor(
    private readonly committer: InboxCommitter,
    private readonly inbox: InboxWriter,
    private readonly options: DeliveryReceiverOptions,
  ) {}

  /** Throws IngestUnavailableError when Postgres did not commit the delivery (in time): nothing may be acknowledged. */
  async receive(body: Buffer, context: DeliveryContext): Promise<ReceiveResult> {
    const batch = classifyBatch(body);
    const { timeoutMs, metrics } = this.options;
    let committed: Committed;
    try {
      committed = await withTimeout(
        this.commit({ batch, ...context }, Date.now() + timeoutMs),
        timeoutMs,
        () => new IngestUnavailableError(`Postgres did not commit the delivery within ${timeoutMs} ms`),
      );
    } catch (error) {
      metrics?.dependencyError('postgres');
      if (error instanceof IngestUnavailableError) throw error;
      throw new IngestUnavailableError(`Postgres failed: ${(error as Error).message}`, { cause: error });
    }
    const counts = countsOf(batch, committed);
    const quarantined = newlyQuarantined(committed);
    // Only what was committed counts: a delivery answered 503 comes again and is counted then.
    if (metrics !== undefined) report(metrics, batch, committed, quarantined);
    return { counts, quarantined };
  }

  private async commit(delivery: Delivery, deadline: number): Promise<Committed> {
    const { batch } = delivery;
    let received: ReceivedBatch;
    try {
      received = await this.committer.commit(delivery, deadline);
    } catch (error) {
      if (!isPermanentDatabaseError(error)) throw error;
      // Postgres refuses the content itself (e.g. JSON nested deeper than its parser goes): a
      // retry would fail the same way and hold back every later delivery, so keep the body.
      return this.quarantineBody(delivery, (error as Error).message);
    }
    const earlier = batch.events.map(({ event }) => event).filter((event) => !received.added.has(eventKey(event.id)));
    const added = batch.events.map(({ event }) => event).filter((event) => received.added.has(eventKey(event.id)));
    const copies = earlier.length === 0 ? [] : await this.conflictingCopies(earlier);
    const conflicting = copies.map(([event]) => event);
    const conflictItems = copies.map(([, item]) => item);
    const conflictsQuarantined = await this.inbox.quarantine(conflictItems.map((item) => ({ ...item, requestId: delivery.requestId, receivedAt: delivery.receivedAt })));
    return {
      added,
      conflicting,
      quarantined: new Set([...received.quarantined, ...conflictsQuarantined]),
      quarantineItems: [...batch.quarantined, ...conflictItems],
      bodyRefused: false,
    };
  }

  /**
   * The events the inbox holds with other content (the version received first stands), each with
   * the quarantine item of its copy. Content compares as parsed JSON: key order and whitespace do
   * not matter.
   */
  private async conflictingCopies(events: PaymentEvent[]): Promise<Array<[PaymentEvent, QuarantineItem]>> {
    const stored = await this.inbox.storedEvents(events.map((event) => event.id));
    return events.flatMap((event): Array<[PaymentEvent, QuarantineItem]> => {
      const storedText = stored.get(eventKey(event.id));
      // Both sides are nested at most MAX_EVENT_DEPTH levels: classification quarantines deeper events.
      if (storedText === undefined || isDeepStrictEqual(JSON.parse(storedText), event)) return [];
      return [[event, quarantineItem(CONFLICTING_DUPLICATE, Buffer.from(JSON.stringify(event)), event.id, event.type)]];
    });
  }

  private async quarantineBody(delivery: Delivery, problem: string): Promise<Committed> {
    const item = quarantineItem(`the inbox refused the batch: ${problem}`, Buffer.from(delivery.batch.text ?? '', 'utf8'));
    const quarantined = await this.inbox.quarantine([{ ...item, requestId: delivery.requestId, receivedAt: delivery.receivedAt }]);
    return { added: [], conflicting: [], quarantined, quarantineItems: [item], bodyRefused: true };
  }
}

/** The quarantine items this delivery added, once per distinct content: each is logged once. */
function newlyQuarantined(committed: Committed): QuarantineItem[] {
  const added = new Map<string, QuarantineItem>();
  for (const item of committed.quarantineItems) {
    if (committed.quarantined.has(item.contentSha256) && !added.has(item.contentSha256)) added.set(item.contentSha256, item);
  }
  return [...added.values()];
}

/** The answer's counts; they add up to the elements of the batch (or to 1 for a body that is not a batch). */
function countsOf(batch: ClassifiedBatch, committed: Committed): IngestCounts {
  if (committed.bodyRefused) return { accepted: 0, duplicate: 0, ignored: 0, quarantined: 1 };
  const earlier = batch.events.length - committed.added.length;
  return {
    accepted: committed.added.length,
    duplicate: earlier - committed.conflicting.length + batch.repeated.length,
    ignored: [...batch.ignored.values()].reduce((sum, count) => sum + count, 0),
    quarantined: committed.quarantineItems.reduce((sum, item) => sum + (item.elements ?? 1), 0),
  };
}

/** Per type and outcome, as the answer counts them. A batch holds few types, often one, so the tally stays tiny. */
function report(metrics: IngestMetrics, batch: ClassifiedBatch, committed: Committed, newlyQuarantined: QuarantineItem[]): void {
  if (!committed.bodyRefused) reportEvents(metrics, batch, committed);
  for (const item of committed.quarantineItems) metrics.webhookEvents(item.eventType, 'quarantined', item.elements ?? 1);
  for (const item of newlyQuarantined) if (item.reason === CONFLICTING_DUPLICATE) metrics.conflictingDuplicate(item.eventType as string);
}

function reportEvents(metrics: IngestMetrics, batch: ClassifiedBatch, committed: Committed): void {
  const added = new Set(committed.added);
  const conflicting = new Set(committed.conflicting);
  const tally = new Map<string, Record<'accepted' | 'duplicate', number>>();
  const count = (type: string, outcome: 'accepted' | 'duplicate') => {
    let counts = tally.get(type);
    if (counts === undefined) tally.set(type, (counts = { accepted: 0, duplicate: 0 }));
    counts[outcome] += 1;
  };
  for (const { event } of batch.events) {
    if (added.has(event)) count(event.type, 'accepted');
    else if (!conflicting.has(event)) count(event.type, 'duplicate');
  }
  for (const event of batch.repeated) count(event.type, 'duplicate');
  for (const [type, counts] of tally) {
    if (counts.accepted > 0) metrics.webhookEvents(type, 'accepted', counts.accepted);
    if (counts.duplicate > 0) metrics.webhookEvents(type, 'duplicate', counts.duplicate);
  }
  for (const [type, ignored] of batch.ignored) metrics.webhookEvents(type, 'ignored', ignored);
}
