import { Counter } from 'prom-client';
import { MetricsRegistry } from '../metrics/MetricsRegistry';
import { scrapedGauge } from '../metrics/scrapedGauge';
import { InboxBacklog } from './InboxBacklog';

/** What the inbox sweeper reports; kept narrow so that the sweeper does not depend on the metrics library. */
export interface InboxSweeperMetrics {
  /** Events that had no live job and were queued again. */
  eventsRequeued(count: number): void;
}

/** The sweeper's instrument: the events it queued again. */
export class InboxSweeperInstruments implements InboxSweeperMetrics {
  private readonly requeued: Counter;

  constructor(metrics: MetricsRegistry) {
    this.requeued = metrics.counter(
      'upvest_inbox_requeued_events_total',
      'Committed events that the inbox sweeper queued again because no live job held them (Redis lost the job, or the process died before queueing it).',
    );
  }

  eventsRequeued(count: number): void {
    this.requeued.inc(count);
  }
}

/** upvest_inbox_oldest_unprojected_seconds: the age of the oldest unprojected event, read at scrape time. */
export function registerInboxBacklogMetrics(metrics: MetricsRegistry, backlog: Pick<InboxBacklog, 'oldestUnprojectedSeconds'>): void {
  scrapedGauge(metrics, {
    name: 'upvest_inbox_oldest_unprojected_seconds',
    help: 'Age of the oldest inbox event (webhook_events) not projected yet, from its receipt, read from Postgres at scrape time; 0 when there is none. Aggregate with max.',
    source: 'postgres',
    read: () => backlog.oldestUnprojectedSeconds(),
  });
}
