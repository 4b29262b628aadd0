import { MetricsRegistry } from '../metrics/MetricsRegistry';
import { scrapedGauge } from '../metrics/scrapedGauge';
import { QuarantineBacklog } from './QuarantineBacklog';

/** upvest_quarantine_pending: the quarantined payloads an operator has not reprocessed yet, read at scrape time. */
export function registerQuarantineMetrics(metrics: MetricsRegistry, store: Pick<QuarantineBacklog, 'pendingCount'>): void {
  scrapedGauge(metrics, {
    name: 'upvest_quarantine_pending',
    help: 'Quarantined payloads not reprocessed yet, read from Postgres at scrape time. Every process reports the same table: aggregate with max.',
    source: 'postgres',
    read: () => store.pendingCount(),
  });
}
