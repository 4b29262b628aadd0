import { Counter, Gauge } from 'prom-client';
import { MetricsRegistry } from '../metrics/MetricsRegistry';

/** What a finished reconciliation run tells the metrics. */
export interface ReconciliationRunReport {
  /** Rows whose status the provider's answer changed: a webhook for them never arrived. */
  corrected: number;
  /** Age of the oldest status that is still not final, after the run; null when there is none. */
  oldestNonFinalSeconds: number | null;
}

/** Told the report of every finished run (as metrics: corrections and how stale the oldest non-final status is). */
export interface ReconciliationMetrics {
  reconciliationRun(report: ReconciliationRunReport): void;
}

/** Reconciliation's instruments: completed runs, corrected payments, and the oldest status still not final. */
export class ReconciliationInstruments implements ReconciliationMetrics {
  private readonly runs: Counter;
  private readonly corrected: Counter;
  private readonly oldestNonFinal: Gauge;

  constructor(metrics: MetricsRegistry) {
    this.runs = metrics.counter('upvest_reconciliation_runs_total', 'Reconciliation runs that completed in this process.');
    this.corrected = metrics.counter('upvest_reconciliation_corrected_total', 'Payments whose status reconciliation corrected because their webhook never arrived.');
    this.oldestNonFinal = new Gauge({
      name: 'upvest_reconciliation_oldest_non_final_seconds',
      help: 'Age of the oldest payment status that is still NEW or PROCESSING, as of the last reconciliation run in this process; 0 when there is none.',
      registers: [metrics.registry],
    });
  }

  reconciliationRun(report: ReconciliationRunReport): void {
    this.runs.inc();
    this.corrected.inc(report.corrected);
    this.oldestNonFinal.set(report.oldestNonFinalSeconds ?? 0);
  }
}
