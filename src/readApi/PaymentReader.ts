import { Prisma, PrismaClient } from '../database/prismaClient';
import { PaymentStatus } from '../events/upvestEvents';
import { Field, HISTORY_FIELDS, jsonObjectOf, PaymentResource } from '../changes/paymentResources';

export interface ListFilters {
  user_id?: string;
  account_group_id?: string;
  status?: PaymentStatus;
  /** Canonical RFC 3339 UTC. */
  updated_since?: string;
  limit: number;
  offset: number;
}

export interface ListPage {
  meta: { count: number; limit: number; offset: number; total_count: number };
  data: object[];
}

// Input only ever reaches the SQL as a parameter; what Prisma.raw splices in are the constant
// column and table names of the resource definitions.
type FilterKey = 'user_id' | 'account_group_id' | 'status' | 'updated_since';
const FILTERS: ReadonlyArray<readonly [key: FilterKey, condition: (value: string) => Prisma.Sql]> = [
  ['user_id', (value) => Prisma.sql`user_id = ${value}::uuid`],
  ['account_group_id', (value) => Prisma.sql`account_group_id = ${value}::uuid`],
  ['status', (value) => Prisma.sql`status = ${value}::payment_status`],
  ['updated_since', (value) => Prisma.sql`projected_at >= ${value}::timestamptz`],
];

/** The payment's history, from the lateral subquery `history` of find(). */
const HISTORY: Field = { name: 'history', sql: 'history.entries', schema: { type: 'array' } };

// Ties in event time keep the order in which the events were recorded.
const HISTORY_ENTRIES = Prisma.raw(`coalesce(json_agg(${jsonObjectOf(HISTORY_FIELDS)} ORDER BY h.event_created_at, h.id), '[]'::json)`);

/**
 * Reads the status tables as the read API answers them: JSON built by Postgres from the resource's
 * fields. Raw SQL, because the answer is built in the database, timestamps to the microsecond.
 */
export class PaymentReader {
  constructor(private readonly prisma: PrismaClient) {}

  /** The payment with its history, oldest event first, or undefined. */
  async find(resource: PaymentResource, id: string): Promise<object | undefined> {
    const rows = await this.prisma.$queryRaw<Array<{ payment: object }>>`SELECT ${Prisma.raw(jsonObjectOf([...resource.fields, HISTORY]))} AS payment
      FROM ${Prisma.raw(resource.table)} p
      CROSS JOIN LATERAL (SELECT ${HISTORY_ENTRIES} AS entries FROM payment_status_history h
        WHERE h.payment_kind = ${resource.kind}::payment_kind AND h.payment_id = p.id) AS history
      WHERE p.id = ${id}::uuid`;
    return rows[0]?.payment;
  }

  /** One page in a stable order (projected_at, id), and the number of all matching rows, from one snapshot. */
  async list(resource: PaymentResource, filters: ListFilters): Promise<ListPage> {
    const conditions = FILTERS.flatMap(([key, condition]) => {
      const value = filters[key];
      return value === undefined ? [] : [condition(value)];
    });
    const where = conditions.length > 0 ? Prisma.sql`WHERE ${Prisma.join(conditions, ' AND ')}` : Prisma.empty;
    const [row] = await this.prisma.$queryRaw<Array<{ total_count: number; data: object[] }>>`WITH matching AS (
        SELECT * FROM ${Prisma.raw(resource.table)} ${where})
      SELECT (SELECT count(*) FROM matching)::int AS total_count,
        coalesce((SELECT json_agg(${Prisma.raw(jsonObjectOf(resource.fields))} ORDER BY p.projected_at, p.id)
          FROM (SELECT * FROM matching ORDER BY projected_at, id LIMIT ${filters.limit}::int OFFSET ${filters.offset}::int) p), '[]'::json) AS data`;
    return {
      meta: { count: row.data.length, limit: filters.limit, offset: filters.offset, total_count: row.total_count },
      data: row.data,
    };
  }
}
