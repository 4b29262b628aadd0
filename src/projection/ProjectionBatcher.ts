import { context, SpanContext, trace } from '@opentelemetry/api';
import { databaseFailureCause, isPermanentDatabaseError } from '../database/databaseErrors';
import { ReceivedEvent } from '../events/receivedEvent';
import { inSpan } from '../tracing/spans';
import { PermanentProjectionError } from './errors';
import { ProjectionBatchMetrics } from './projectionMetrics';
import { EventOutcome, ProjectionStore } from './ProjectionStore';

interface Waiting {
  received: ReceivedEvent;
  /** The span of the event's projection, when tracing is on. */
  span: SpanContext | undefined;
  resolve(outcome: EventOutcome): void;
  reject(error: Error): void;
}

/**
 * Gathers events handed over one by one (one per queue job) into batches for the store, so that
 * a few transactions carry many events. A batch is written when it is full or `maxWaitMs` after
 * its first event, whichever comes first.
 */
export class ProjectionBatcher {
  private waiting: Waiting[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly store: ProjectionStore,
    private readonly maxSize: number,
    private readonly maxWaitMs: number,
    private readonly metrics?: ProjectionBatchMetrics,
  ) {}

  project(received: ReceivedEvent): Promise<EventOutcome> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ received, span: trace.getActiveSpan()?.spanContext(), resolve, reject });
      if (this.waiting.length >= this.maxSize) this.flush();
      else this.timer ??= setTimeout(() => this.flush(), this.maxWaitMs);
    });
  }

  private flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.waiting;
    this.waiting = [];
    void this.write(batch);
  }

  private async write(batch: Waiting[]): Promise<void> {
    try {
      const outcomes = await projectBatchInSpan(this.store, batch);
      if (this.metrics !== undefined) observeLag(this.metrics, batch, outcomes);
      for (const waiting of batch) waiting.resolve(outcomes.get(waiting.received.event.id) ?? 'duplicate');
    } catch (error) {
      if (!isPermanentDatabaseError(error)) {
        // Once per failed transaction, however many jobs it fails.
        this.metrics?.dependencyError('postgres');
        for (const waiting of batch) waiting.reject(error as Error);
      } else if (batch.length > 1) {
        // One bad event must not hold back the others: write them one by one to find it.
        for (const waiting of batch) await this.write([waiting]);
      } else {
        batch[0].reject(new PermanentProjectionError(databaseFailureCause(error)));
      }
    }
  }
}

/**
 * The store's transaction for a batch, as a span: a child of its first event's projection span and
 * linked to the others', so that the trace of each event's delivery reaches it.
 */
function projectBatchInSpan(store: ProjectionStore, batch: Waiting[]): Promise<Map<string, EventOutcome>> {
  const spans = batch.flatMap((waiting) => (waiting.span === undefined ? [] : [waiting.span]));
  const parent = spans.length === 0 ? context.active() : trace.setSpanContext(context.active(), spans[0]);
  const options = { links: spans.slice(1).map((span) => ({ context: span })), attributes: { 'projection.events': batch.length } };
  return inSpan('projection transaction', options, () => store.projectBatch(batch.map((waiting) => waiting.received)), parent);
}

/** Event created_at → now, the batch having just committed. `outcomes` has each event once, also one sent twice. */
function observeLag(metrics: ProjectionBatchMetrics, batch: Waiting[], outcomes: Map<string, EventOutcome>): void {
  const committedAt = Date.now();
  const createdAt = new Map(batch.map(({ received }) => [received.event.id, received.event.created_at]));
  for (const [id, outcome] of outcomes) {
    if (outcome === 'duplicate') continue;
    const createdAtMs = Date.parse(createdAt.get(id) ?? '');
    if (Number.isFinite(createdAtMs)) metrics.projectionLagSeconds(Math.max(0, (committedAt - createdAtMs) / 1000));
  }
}
