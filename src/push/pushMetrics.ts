import { Counter, Gauge, Histogram } from 'prom-client';
import { MetricsRegistry } from '../metrics/MetricsRegistry';
import { PushBacklog, SubscriptionBacklog } from './PushBacklog';
import { FailureReason } from './SubscriberEndpoint';

/** What the senders report, per subscription (its id: never its URL, which may carry credentials). */
export interface PushMetrics {
  attempted(subscriptionId: string): void;
  /** A 2xx, `lagSeconds` after the change was recorded. */
  delivered(subscriptionId: string, lagSeconds: number): void;
  failed(subscriptionId: string, reason: FailureReason): void;
}

/** Commit to 2xx: from tens of milliseconds (idle) to the hours of a subscriber that was down. */
const LAG_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800, 3600, 21600, 86400];

export class PushInstruments implements PushMetrics {
  private readonly attempts: Counter<'subscription'>;
  private readonly deliveries: Counter<'subscription'>;
  private readonly failures: Counter<'subscription' | 'reason'>;
  private readonly lag: Histogram<'subscription'>;

  constructor(metrics: MetricsRegistry, backlog: Pick<PushBacklog, 'subscriptionBacklogs'>) {
    this.attempts = metrics.counter('upvest_push_attempts_total', 'Attempts to send a change to a subscriber.', ['subscription']);
    this.deliveries = metrics.counter('upvest_push_deliveries_total', 'Changes a subscriber acknowledged with a 2xx.', ['subscription']);
    this.failures = metrics.counter(
      'upvest_push_failures_total',
      'Failed attempts, by reason: status_3xx/4xx/5xx (the answer), timeout, connection, refused_target (a loopback, private or metadata address not in PUSH_ALLOWED_TARGETS), insecure_url (http:// in production).',
      ['subscription', 'reason'],
    );
    this.lag = metrics.histogram('upvest_push_delivery_lag_seconds', 'From the commit of a status change to its 2xx from the subscriber.', LAG_BUCKETS, ['subscription']);
    registerBacklogGauges(metrics, backlog);
  }

  attempted(subscriptionId: string): void {
    this.attempts.inc({ subscription: subscriptionId });
  }

  delivered(subscriptionId: string, lagSeconds: number): void {
    this.deliveries.inc({ subscription: subscriptionId });
    this.lag.observe({ subscription: subscriptionId }, lagSeconds);
  }

  failed(subscriptionId: string, reason: FailureReason): void {
    this.failures.inc({ subscription: subscriptionId, reason });
  }
}

/**
 * upvest_push_oldest_undelivered_seconds and upvest_push_subscription_failing, per enabled
 * subscription, read from Postgres at scrape time (every pod shows the same: aggregate with max).
 * Left out when the read fails, rather than shown stale.
 */
function registerBacklogGauges(metrics: MetricsRegistry, backlog: Pick<PushBacklog, 'subscriptionBacklogs'>): void {
  const gauge = (name: string, help: string, valueOf: (row: SubscriptionBacklog) => number) =>
    new Gauge({
      name,
      help,
      labelNames: ['subscription'],
      registers: [metrics.registry],
      async collect() {
        const rows = await metrics.readInTime(backlog.subscriptionBacklogs(), 'postgres').catch(() => []);
        this.reset();
        for (const row of rows) this.set({ subscription: row.id }, valueOf(row));
      },
    });
  gauge('upvest_push_oldest_undelivered_seconds', 'Per enabled subscription: the age of its oldest change not delivered yet, from its commit; 0 when none. Read from Postgres at scrape time.',
    (row) => row.oldest_undelivered_seconds);
  gauge('upvest_push_subscription_failing', 'Per enabled subscription: 1 while it is failing (a change undelivered for PUSH_FAILING_AFTER_HOURS), else 0. Read at scrape time.',
    (row) => (row.failing ? 1 : 0));
}
