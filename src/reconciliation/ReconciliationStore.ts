import { Prisma, PrismaClient } from '../database/prismaClient';
import { PaymentKind } from '../events/upvestEvents';
import { PAYMENT_TABLES } from '../projection/paymentTables';

/** A payment whose status has not been final for too long, as reconciliation checks it. */
export interface StalePayment {
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

/** The status tables as reconciliation reads and marks them; what it corrects goes through the projection. */
export class ReconciliationStore {
  constructor(private readonly prisma: PrismaClient) {}

  /** The payments in NEW or PROCESSING for longer than `staleAfterSeconds`, and not checked for as long: at most `limit`. */
  async stalePayments(staleAfterSeconds: number, limit: number): Promise<StalePayment[]> {
    return this.prisma.$queryRaw<StalePayment[]>(stalePaymentsSql(staleAfterSeconds, limit));
  }

  /**
   * Records the check (which also moves the payment to the back of the line) and returns its status now.
   * Raw: the table depends on the kind, and reconciled_at is the database's now(), to the microsecond.
   */
  async markReconciled(payment: StalePayment): Promise<string> {
    const [row] = await this.prisma.$queryRaw<Array<{ status: string }>>`UPDATE ${Prisma.raw(PAYMENT_TABLES[payment.kind].table)}
      SET reconciled_at = now() WHERE id = ${payment.id}::uuid RETURNING status::text AS status`;
    return row.status;
  }

  /** Seconds since the oldest status that is still not final was reached, whole; null when there is none. */
  async oldestNonFinalSeconds(): Promise<number | null> {
    const [{ seconds }] = await this.prisma.$queryRaw<Array<{ seconds: number | null }>>(OLDEST_NON_FINAL_SQL);
    return seconds === null ? null : Math.round(seconds);
  }
}
