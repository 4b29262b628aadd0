import { PrismaClient } from '../database/prismaClient';
import { PaymentStatus } from '../events/upvestEvents';
import { Field, HISTORY_FIELDS, jsonObjectOf, PaymentResource } from './paymentResources';

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

// Input only ever reaches the SQL as a parameter; the interpolated parts are the constant
// column and table names of the resource definitions.
type FilterKey = 'user_id' | 'account_group_id' | 'status' | 'updated_since';
const FILTERS: ReadonlyArray<readonly [key: FilterKey, condition: (parameter: string) => string]> = [
  ['user_id', (parameter) => `user_id = ${parameter}::uuid`],
  ['account_group_id', (parameter) => `account_group_id = ${parameter}::uuid`],
  ['status', (parameter) => `status = ${parameter}::payment_status`],
  ['updated_since', (parameter) => `projected_at >= ${parameter}::timestamptz`],
];

// Ties in event time keep the order in which the events were recorded.
const HISTORY: Field = {
  name: 'history',
  sql: `coalesce((SELECT json_agg(${jsonObjectOf(HISTORY_FIELDS)} ORDER BY h.event_created_at, h.id)
    FROM payment_status_history h WHERE h.payment_kind = $2::payment_kind AND h.payment_id = p.id), '[]'::json)`,
  schema: { type: 'array' },
};

/** Reads the status tables as the read API answers them: JSON built by Postgres from the resource's fields. */
export class PaymentReader {
  constructor(private readonly prisma: PrismaClient) {}

  /** The payment with its history, oldest event first, or undefined. */
  async find(resource: PaymentResource, id: string): Promise<object | undefined> {
    const rows = await this.prisma.$queryRawUnsafe<Array<{ payment: object }>>(
      `SELECT ${jsonObjectOf([...resource.fields, HISTORY])} AS payment
       FROM ${resource.table} p WHERE p.id = $1::uuid`,
      id,
      resource.kind,
    );
    return rows[0]?.payment;
  }

  /** One page in a stable order (projected_at, id), and the number of all matching rows, from one snapshot. */
  async list(resource: PaymentResource, filters: ListFilters): Promise<ListPage> {
    const parameters: unknown[] = [];
    const conditions = FILTERS.filter(([key]) => filters[key] !== undefined).map(([key, condition]) => {
      parameters.push(filters[key]);
      return condition(`$${parameters.length}`);
    });
    const where = conditions.length > 0 ? `WHERE ${conditions.join(' AND ')}` : '';
    const [limit, offset] = [parameters.length + 1, parameters.length + 2];
    const [row] = await this.prisma.$queryRawUnsafe<Array<{ total_count: number; data: object[] }>>(
      `WITH matching AS (SELECT * FROM ${resource.table} ${where})
       SELECT (SELECT count(*) FROM matching)::int AS total_count,
         coalesce((SELECT json_agg(${jsonObjectOf(resource.fields)} ORDER BY p.projected_at, p.id)
           FROM (SELECT * FROM matching ORDER BY projected_at, id LIMIT $${limit}::int OFFSET $${offset}::int) p), '[]'::json) AS data`,
      ...parameters,
      filters.limit,
      filters.offset,
    );
    return {
      meta: { count: row.data.length, limit: filters.limit, offset: filters.offset, total_count: row.total_count },
      data: row.data,
    };
  }
}
