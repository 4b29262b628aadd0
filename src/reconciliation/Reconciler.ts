import { ReceivedEvent } from '../events/receivedEvent';
import { Logger } from '../logging/logger';
import { ProjectionStore } from '../projection/ProjectionStore';
import { UpvestApiError, UpvestApiUnavailableError } from '../provider/errors';
import { UpvestApi } from '../provider/UpvestApi';
import { ReconciliationInterruptedError } from './errors';
import { fetchedPaymentEvent } from './fetchedPaymentEvent';
import { ReconciliationMetrics } from './reconciliationMetrics';
import { ReconciliationStore, StalePayment } from './ReconciliationStore';

export interface ReconcilerOptions {
  /** A payment is checked once it has sat in NEW or PROCESSING this long, then at most once per this interval. */
  staleAfterSeconds: number;
  maxPaymentsPerRun: number;
}

export interface ReconciliationReport {
  checked: number;
  /** Rows whose status the provider's answer changed: a webhook for them never arrived. */
  corrected: number;
  failed: number;
  /** Age of the oldest status that is still not final, after the run; null when there is none. */
  oldestNonFinalSeconds: number | null;
}

/**
 * Finds payments that have sat in a non-final status for too long, fetches them from the
 * provider and applies what it says through the projection, as events of source
 * 'reconciliation': a status whose webhook was lost is corrected, forward-only and idempotently.
 */
export class Reconciler {
  constructor(
    private readonly store: ReconciliationStore,
    private readonly api: UpvestApi,
    private readonly projection: ProjectionStore,
    private readonly logger: Logger,
    private readonly options: ReconcilerOptions,
    private readonly metrics?: ReconciliationMetrics,
  ) {}

  async run(): Promise<ReconciliationReport> {
    const stale = await this.store.stalePayments(this.options.staleAfterSeconds, this.options.maxPaymentsPerRun);
    let corrected = 0;
    let failed = 0;
    for (const [checked, payment] of stale.entries()) {
      // Unmarked, the payments not reached are the first ones the next run checks.
      const received = await this.fetch(payment).catch((outage: Error) => {
        throw new ReconciliationInterruptedError(checked, stale.length, outage);
      });
      if (received === undefined) failed += 1;
      else await this.projection.projectBatch([received]);
      // Also after a failure: a payment the provider cannot serve must not hold up the others.
      const status = await this.store.markReconciled(payment);
      if (status !== payment.status) {
        corrected += 1;
        this.logger.warn('reconciliation corrected a payment whose webhook did not arrive', { ...payment, newStatus: status });
      }
    }
    const report = { checked: stale.length, corrected, failed, oldestNonFinalSeconds: await this.store.oldestNonFinalSeconds() };
    this.logger.info('reconciliation run finished', report);
    this.metrics?.reconciliationRun(report);
    return report;
  }

  /** Undefined when the provider cannot serve this payment; throws when it is unavailable altogether. */
  private async fetch(payment: StalePayment): Promise<ReceivedEvent | undefined> {
    try {
      const fetched = fetchedPaymentEvent(payment.kind, await this.api.payment(payment.kind, payment.id), 'reconciliation', new Date());
      if ('received' in fetched) return fetched.received;
      this.logger.error('reconciliation cannot use the provider answer', { ...payment, problem: fetched.problem });
    } catch (error) {
      if (isProviderOutage(error)) throw error;
      this.logger.error('reconciliation could not fetch a payment', { ...payment, error: (error as Error).message });
    }
    return undefined;
  }
}

function isProviderOutage(error: unknown): boolean {
  return error instanceof UpvestApiUnavailableError || (error instanceof UpvestApiError && error.retryable);
}
