import { canonicalTimestamp } from '../events/timestamps';
import { DirectDebitEvent, PaymentEvent, PaymentKind, WithdrawalEvent, kindOf, statusOf } from '../events/upvestEvents';
import { PaymentFields, PaymentUpdate } from './paymentState';

/** How one kind of payment maps onto its table. */
export interface PaymentTable {
  kind: PaymentKind;
  table: 'withdrawals' | 'direct_debits';
  /** Descriptive columns and their SQL types. */
  columns: ReadonlyArray<readonly [name: string, sqlType: string]>;
  fieldsOf(event: PaymentEvent): PaymentFields;
}

/** The descriptive columns both kinds share; each adds its account reference and amount. */
const SHARED_COLUMNS = [
  ['user_id', 'uuid'],
  ['account_group_id', 'uuid'],
  ['currency', 'text'],
  ['remittance_information', 'text'],
  ['purpose_code', 'text'],
  ['created_at', 'timestamptz'],
  ['updated_at', 'timestamptz'],
] as const;

function sharedFields(object: PaymentEvent['object']): PaymentFields {
  return {
    user_id: object.user_id,
    account_group_id: object.account_group_id,
    currency: object.currency,
    remittance_information: object.remittance_information ?? null,
    purpose_code: object.purpose_code ?? null,
    created_at: timestampOrNull(object.created_at),
    updated_at: timestampOrNull(object.updated_at),
  };
}

function timestampOrNull(value: string | undefined): string | null {
  return value === undefined ? null : (canonicalTimestamp(value) ?? null);
}

const withdrawals: PaymentTable = {
  kind: 'WITHDRAWAL',
  table: 'withdrawals',
  columns: [['reference_account_id', 'uuid'], ['amount', 'numeric'], ...SHARED_COLUMNS],
  fieldsOf(event) {
    const { object } = event as WithdrawalEvent;
    return { reference_account_id: object.reference_account_id, amount: object.amount, ...sharedFields(object) };
  },
};

const directDebits: PaymentTable = {
  kind: 'DIRECT_DEBIT',
  table: 'direct_debits',
  columns: [['mandate_id', 'uuid'], ['cash_amount', 'numeric'], ...SHARED_COLUMNS],
  fieldsOf(event) {
    const { object } = event as DirectDebitEvent;
    return { mandate_id: object.mandate_id, cash_amount: object.cash_amount, ...sharedFields(object) };
  },
};

export const PAYMENT_TABLES: Record<PaymentKind, PaymentTable> = { WITHDRAWAL: withdrawals, DIRECT_DEBIT: directDebits };

export function paymentUpdateOf(event: PaymentEvent): PaymentUpdate {
  return {
    eventId: event.id,
    eventCreatedAt: canonicalTimestamp(event.created_at) as string,
    status: statusOf(event),
    fields: PAYMENT_TABLES[kindOf(event)].fieldsOf(event),
  };
}
