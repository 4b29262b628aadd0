import { Prisma, PrismaClient } from '../database/prismaClient';
import { ReceivedEvent } from '../events/receivedEvent';
import { PaymentKind } from '../events/upvestEvents';
import { Logger } from '../logging/logger';
import { PAYMENT_TABLES } from '../projection/paymentTables';
import { ProjectionStore } from '../projection/ProjectionStore';
import { UpvestApiError, UpvestApiUnavailableError } from '../provider/errors';
import { UpvestApi } from '../provider/UpvestApi';
import { ReconciliationInterruptedError } from './errors';
import { fetchedPaymentEvent } from './fetchedPaymentEvent';
import { ReconciliationMetrics } from './reconciliationMetrics';

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

interface StalePayment {
  kind: PaymentKind;
  id: string;
  status: string;
}

// Raw SQL, because the two queries below each cover both status tables in one statement. Table
// names come from the fixed PAYMENT_TABLES, never from input, so Prisma.raw may splice them in.
const TABLES = Object.values(PAYMENT_TABLES).map(({ kind, table }) => ({ kind, table: Prisma.raw(table) }));
const NON_FINAL = Prisma.sql`status IN ('NEW', 'PROCESSING')`;

// Least recently checked first, so that payments that stay PROCESSING for days do not starve the others.
function stalePaymentsSql(staleAfterSeconds: number, limit: number): Prisma.Sql {
  const staleBefore = Prisma.sql`now() - make_interval(secs => ${staleAfterSeconds})`;
  const stale = TABLES.map(
    ({ kind, table }) => Prisma.sql`SELECT ${kind}::text AS kind, id::text AS id, status::text AS status, status_event_created_at, reconciled_at
    FROM ${table}
    WHERE ${NON_FINAL} AND status_event_created_at < ${staleBefore}
      AND (reconciled_at IS NULL OR reconciled_at < ${staleBefore})`,
  );
  return Prisma.sql`SELECT kind, id, status FROM (
  ${Prisma.join(stale, '\n  UNION ALL\n  ')}
) AS stale
ORDER BY reconciled_at NULLS FIRST, status_event_created_at
LIMIT ${limit}`;
}

// The age by the database's clock, the one that wrote the timestamps.
const OLDEST_NON_FINAL_SQL = Prisma.sql`SELECT extract(epoch FROM now() - min(since))::float8 AS seconds FROM (
  ${Prisma.join(
    TABLES.map(({ table }) => Prisma.sql`SELECT min(status_event_created_at) AS since FROM ${table} WHERE ${NON_FINAL}`),
    ' UNION ALL ',
  )}
) AS oldest`;

/**
 * Finds payments that have sat in a non-final status for too long, fetches them from the
 * provider and applies what it says through the projection, as events of source
 * 'reconciliation': a status whose webhook was lost is corrected, forward-only and idempotently.
 */
export class Reconciler {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly api: UpvestApi,
    private readonly store: ProjectionStore,
    private readonly logger: Logger,
    private readonly options: ReconcilerOptions,
    private readonly metrics?: ReconciliationMetrics,
  ) {}

  async run(): Promise<ReconciliationReport> {
    const stale = await this.prisma.$queryRaw<StalePayment[]>(stalePaymentsSql(this.options.staleAfterSeconds, this.options.maxPaymentsPerRun));
    let corrected = 0;
    let failed = 0;
    for (const [checked, payment] of stale.entries()) {
      // Unmarked, the payments not reached are the first ones the next run checks.
      const received = await this.fetch(payment).catch((outage: Error) => {
        throw new ReconciliationInterruptedError(checked, stale.length, outage);
      });
      if (received === undefined) failed += 1;
      else await this.store.projectBatch([received]);
      // Also after a failure: a payment the provider cannot serve must not hold up the others.
      const status = await this.markReconciled(payment);
      if (status !== payment.status) {
        corrected += 1;
        this.logger.warn('reconciliation corrected a payment whose webhook did not arrive', { ...payment, newStatus: status });
      }
    }
    const [{ seconds }] = await this.prisma.$queryRaw<Array<{ seconds: number | null }>>(OLDEST_NON_FINAL_SQL);
    const report = { checked: stale.length, corrected, failed, oldestNonFinalSeconds: seconds === null ? null : Math.round(seconds) };
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

  /**
   * Records the check (which also moves the payment to the back of the line) and returns its status now.
   * Raw: the table depends on the kind, and reconciled_at is the database's now(), to the microsecond.
   */
  private async markReconciled(payment: StalePayment): Promise<string> {
    const [row] = await this.prisma.$queryRaw<Array<{ status: string }>>`UPDATE ${Prisma.raw(PAYMENT_TABLES[payment.kind].table)}
      SET reconciled_at = now() WHERE id = ${payment.id}::uuid RETURNING status::text AS status`;
    return row.status;
  }
}

function isProviderOutage(error: unknown): boolean {
  return error instanceof UpvestApiUnavailableError || (error instanceof UpvestApiError && error.retryable);
}
