import { SpanKind } from '@opentelemetry/api';
import { Logger } from '../logging/logger';
import { WakeUp } from '../shared/WakeUp';
import { activeTraceCarrier, inSpan } from '../tracing/spans';
import { ClaimedDelivery, DeliveryOutcome, PushDeliveryStore } from './PushDeliveryStore';
import { PushMetrics } from './pushMetrics';
import { pushRetryDelayMs } from './pushRetrySchedule';
import { standardWebhookHeaders } from './standardWebhookSignature';
import { AttemptResult, SubscriberEndpoint } from './SubscriberEndpoint';

export interface LaneOptions {
  /** Deliveries in flight at once (each of a different payment). */
  concurrency: number;
  /** The longest attempt; a claimed change is leased a while longer, then another worker may take it. */
  timeoutMs: number;
  /** How long the lane sleeps when it has nothing to send and is not woken. */
  pollIntervalMs: number;
  failingAfterHours: number;
}

/** A claimed change is leased this much longer than its attempt may take. */
const LEASE_MARGIN_MS = 5_000;
/** After a failed statement (Postgres away), the lane waits before it tries again. */
const ERROR_PAUSE_MS = 1000;

/**
 * Sends the changes of one subscription: claims the due ones (each the oldest undelivered change
 * of its payment), posts them signed, records each outcome, and claims again as attempts end.
 * Each subscription has its lane, so that a slow or failing subscriber holds only its own.
 * Outcomes are recorded together, one statement per round, and only then can the next change of
 * a payment be claimed: a change is never sent before the earlier ones of its payment were
 * acknowledged.
 */
export class SubscriptionLane {
  private readonly wakeUp = new WakeUp();
  private readonly inFlight = new Set<Promise<void>>();
  private outcomes: Array<{ outcome: DeliveryOutcome; delivery: ClaimedDelivery }> = [];
  private stopping = false;
  private running: Promise<void> | undefined;

  constructor(
    readonly subscriptionId: string,
    private readonly endpoint: SubscriberEndpoint,
    private readonly store: PushDeliveryStore,
    private readonly metrics: PushMetrics,
    private readonly logger: Logger,
    private readonly options: LaneOptions,
  ) {}

  start(): void {
    this.running ??= this.run();
  }

  /** There may be new changes to send. */
  wake(): void {
    this.wakeUp.wake();
  }

  /** The attempts in flight end (within PUSH_TIMEOUT_MS) and are recorded; then the connections close. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wakeUp.wake();
    await this.running;
    this.endpoint.close();
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      try {
        await this.recordOutcomes();
        const free = this.options.concurrency - this.inFlight.size;
        // Claims go in batches (half the lane at least) rather than one per finished attempt: a claim costs a statement.
        const claiming = !this.stopping && free > 0 && (this.inFlight.size === 0 || free >= this.options.concurrency / 2);
        if (claiming) {
          const { deliveries, parked } = await this.store.claim(this.subscriptionId, free, this.options.timeoutMs + LEASE_MARGIN_MS);
          for (const delivery of deliveries) this.send(delivery);
          // Changes parked behind earlier ones may have hidden due ones further on: look again at once.
          if (parked > 0 && deliveries.length < free) this.wakeUp.wake();
        }
        // Woken by the end of an attempt, by new changes, or after the poll interval for due retries.
        await this.wakeUp.wait(this.options.pollIntervalMs);
      } catch (error) {
        this.logger.warn('push: a statement of the lane failed; trying again', { subscription: this.subscriptionId, error: (error as Error).message });
        await this.wakeUp.wait(ERROR_PAUSE_MS);
      }
    }
    await Promise.all(this.inFlight);
    await this.recordOutcomes().catch((error) => {
      // Not recorded: the leases end and the changes are sent again; the subscriber deduplicates.
      this.logger.warn('push: outcomes not recorded at stop', { subscription: this.subscriptionId, error: (error as Error).message });
    });
  }

  private send(delivery: ClaimedDelivery): void {
    const attempt = this.attempt(delivery).then((outcome) => {
      this.inFlight.delete(attempt);
      this.outcomes.push({ outcome, delivery });
      this.wakeUp.wake();
    });
    this.inFlight.add(attempt);
  }

  private attempt(delivery: ClaimedDelivery): Promise<DeliveryOutcome> {
    const attributes = { 'upvest.push.subscription': this.subscriptionId, 'upvest.push.attempt': delivery.attempts, 'upvest.event_id': delivery.event_id };
    return inSpan('push delivery', { kind: SpanKind.CLIENT, attributes }, async (span) => {
      this.metrics.attempted(this.subscriptionId);
      const headers = { ...standardWebhookHeaders(delivery.event_id, new Date(), delivery.body, delivery.secrets), ...activeTraceCarrier() };
      const result = await this.endpoint.post(headers, delivery.body);
      if (result.responseCode !== null) span.setAttribute('http.response.status_code', result.responseCode);
      return this.outcomeOf(delivery, result);
    });
  }

  private outcomeOf(delivery: ClaimedDelivery, result: AttemptResult): DeliveryOutcome {
    if (result.delivered) {
      this.metrics.delivered(this.subscriptionId, Math.max(0, (Date.now() - delivery.recorded_ms) / 1000));
      return { history_id: delivery.history_id, delivered: true, response_code: result.responseCode, error: null, retry_in_ms: 0 };
    }
    this.metrics.failed(this.subscriptionId, result.reason);
    const retryInMs = pushRetryDelayMs(delivery.attempts);
    this.logger.info('push: attempt failed', {
      subscription: this.subscriptionId,
      eventId: delivery.event_id,
      attempts: delivery.attempts,
      reason: result.reason,
      responseCode: result.responseCode,
      retryInSeconds: Math.round(retryInMs / 1000),
    });
    return { history_id: delivery.history_id, delivered: false, response_code: result.responseCode, error: `${result.reason}: ${result.error}`, retry_in_ms: retryInMs };
  }

  private async recordOutcomes(): Promise<void> {
    if (this.outcomes.length === 0) return;
    const batch = this.outcomes;
    this.outcomes = [];
    const failingSince = Date.now() - this.options.failingAfterHours * 3600_000;
    const markFailing = batch.some(({ outcome, delivery }) => !outcome.delivered && delivery.first_attempt_ms < failingSince);
    try {
      const state = await this.store.record(this.subscriptionId, batch.map(({ outcome }) => outcome), markFailing, this.options.failingAfterHours);
      if (markFailing && state === 'failing') this.logger.warn('push: subscription failing', { subscription: this.subscriptionId });
    } catch (error) {
      // Kept for the next round; meanwhile their leases hold the changes.
      this.outcomes.unshift(...batch);
      throw error;
    }
  }
}
