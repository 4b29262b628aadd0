import { canonicalTimestampSql } from '../events/timestamps';
import { PAYMENT_STATUSES, PaymentKind } from '../events/upvestEvents';
import { EVENT_SOURCES } from '../events/receivedEvent';

/**
 * One property of a JSON answer: its name, the SQL expression that produces it and its JSON
 * schema. The queries and the OpenAPI document are both built from these lists, so that the
 * document cannot drift from what the endpoints answer.
 */
export interface Field {
  name: string;
  sql: string;
  schema: Record<string, unknown>;
}

/** RFC 3339 in UTC with microseconds, the precision Postgres keeps (e.g. 2021-07-21T14:10:00.000000Z). */
const utc = canonicalTimestampSql;

const UUID = { type: 'string', format: 'uuid' };
const NULLABLE_TEXT = { type: ['string', 'null'] };
const TIMESTAMP = { type: 'string', format: 'date-time' };
const NULLABLE_TIMESTAMP = { type: ['string', 'null'], format: 'date-time' };
const STATUS = { type: 'string', enum: [...PAYMENT_STATUSES] };
// Exactly as stored (numeric(11,2) as text), never a float: money is decimal.
const MONEY = { type: 'string', pattern: '^[0-9]{1,9}\\.[0-9]{2}$', description: 'Decimal amount, exactly as stored.' };

const field = (name: string, sql: string, schema: Record<string, unknown>): Field => ({ name, sql, schema });
const column = (name: string, schema: Record<string, unknown>): Field => field(name, `p.${name}`, schema);
const timestampColumn = (name: string, schema: Record<string, unknown> = TIMESTAMP): Field => field(name, utc(`p.${name}`), schema);

const fieldsAround = (reference: Field, amount: Field): Field[] => [
  column('id', UUID),
  column('user_id', UUID),
  column('account_group_id', UUID),
  reference,
  amount,
  column('currency', { type: 'string', description: 'ISO 4217 code.' }),
  column('remittance_information', NULLABLE_TEXT),
  column('purpose_code', NULLABLE_TEXT),
  column('status', STATUS),
  timestampColumn('created_at'),
  timestampColumn('updated_at', NULLABLE_TIMESTAMP),
  field('status_since', utc('p.status_event_created_at'), { ...TIMESTAMP, description: 'Creation time of the event that set the current status.' }),
  timestampColumn('projected_at', { ...TIMESTAMP, description: 'When this service last changed the row; `updated_since` filters on it.' }),
  timestampColumn('reconciled_at', { ...NULLABLE_TIMESTAMP, description: 'When reconciliation last compared the row with the provider; null if never.' }),
];

/** One kind of payment as the read API serves it. */
export interface PaymentResource {
  kind: PaymentKind;
  /** The path segment under /v1. */
  path: 'withdrawals' | 'direct-debits';
  table: 'withdrawals' | 'direct_debits';
  /** In prose: 'withdrawal', 'direct debit'. */
  noun: string;
  /** The name of its schema in the OpenAPI document. */
  schemaName: 'Withdrawal' | 'DirectDebit';
  fields: Field[];
}

export const PAYMENT_RESOURCES: readonly PaymentResource[] = [
  {
    kind: 'WITHDRAWAL',
    path: 'withdrawals',
    table: 'withdrawals',
    noun: 'withdrawal',
    schemaName: 'Withdrawal',
    fields: fieldsAround(column('reference_account_id', UUID), field('amount', 'p.amount::text', MONEY)),
  },
  {
    kind: 'DIRECT_DEBIT',
    path: 'direct-debits',
    table: 'direct_debits',
    noun: 'direct debit',
    schemaName: 'DirectDebit',
    fields: fieldsAround(column('mandate_id', UUID), field('cash_amount', 'p.cash_amount::text', MONEY)),
  },
];

export function resourceOfKind(kind: PaymentKind): PaymentResource {
  return PAYMENT_RESOURCES.find((resource) => resource.kind === kind) as PaymentResource;
}

const historyColumn = (name: string, schema: Record<string, unknown>): Field => field(name, `h.${name}`, schema);

/** One row of payment_status_history: an event applied to the payment, also one that changed nothing. */
export const HISTORY_FIELDS: Field[] = [
  historyColumn('event_id', UUID),
  historyColumn('event_type', { type: 'string', examples: ['WITHDRAWAL.CONFIRMED'] }),
  field('event_created_at', utc('h.event_created_at'), TIMESTAMP),
  historyColumn('event_status', STATUS),
  historyColumn('previous_status', { type: ['string', 'null'], enum: [...PAYMENT_STATUSES, null] }),
  historyColumn('status', { ...STATUS, description: 'The payment status after the event.' }),
  historyColumn('status_changed', { type: 'boolean' }),
  historyColumn('source', { type: 'string', enum: [...EVENT_SOURCES] }),
  field('recorded_at', utc('h.recorded_at'), TIMESTAMP),
];

/** json_build_object over the fields, keeping their order in the answer. */
export function jsonObjectOf(fields: Field[]): string {
  return `json_build_object(${fields.map(({ name, sql }) => `'${name}', ${sql}`).join(', ')})`;
}
