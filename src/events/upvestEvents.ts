import { z } from 'zod';
import { compileCheck } from './compiledCheck';
import { canonicalTimestamp } from './timestamps';

export const PAYMENT_STATUSES = ['NEW', 'PROCESSING', 'CONFIRMED', 'CANCELLED'] as const;
export type PaymentStatus = (typeof PAYMENT_STATUSES)[number];

export const PAYMENT_KINDS = ['WITHDRAWAL', 'DIRECT_DEBIT'] as const;
export type PaymentKind = (typeof PAYMENT_KINDS)[number];

/**
 * The form in which every deduplication step (classification, job id, Redis marker, projection)
 * compares event ids: they are uuids, and Postgres compares those case-insensitively.
 */
export function eventKey(eventId: string): string {
  return eventId.toLowerCase();
}

/** Every withdrawal and direct-debit event type this service projects (`WITHDRAWAL.NEW`, …). */
export const PAYMENT_EVENT_TYPES: ReadonlySet<string> = new Set(PAYMENT_KINDS.flatMap((kind) => PAYMENT_STATUSES.map((status) => `${kind}.${status}`)));

// Loose on purpose: the provider's examples include non-RFC-4122 versions (e.g. 1ea60f56-b67b-61fc-...).
const uuid = z.string().regex(/^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/, 'must be a uuid');
const timestamp = z.string().refine((value) => canonicalTimestamp(value) !== undefined, 'must be an RFC 3339 date-time');
const money = z.string().regex(/^[0-9]{1,9}(\.[0-9]{2})?$/, 'must be a decimal string like "200.00"');
const currency = z.string().regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code');
const remittance = z.string().max(140);

// looseObject keeps fields added by newer API versions: the whole event is stored as received.
export const withdrawalObjectSchema = z.looseObject({
  id: uuid,
  user_id: uuid,
  account_group_id: uuid,
  reference_account_id: uuid,
  amount: money,
  currency,
  remittance_information: remittance,
  created_at: timestamp,
  updated_at: timestamp,
  status: z.enum(PAYMENT_STATUSES).optional(),
  purpose_code: z.string().optional(),
});

export const directDebitObjectSchema = z.looseObject({
  id: uuid,
  user_id: uuid,
  account_group_id: uuid,
  mandate_id: uuid,
  cash_amount: money,
  currency,
  created_at: timestamp,
  updated_at: timestamp.optional(),
  remittance_information: remittance.optional(),
  status: z.enum(PAYMENT_STATUSES).optional(),
  purpose_code: z.string().optional(),
});

function eventSchema<K extends PaymentKind, O extends z.ZodType>(kind: K, object: O) {
  return z.looseObject({
    id: uuid,
    created_at: timestamp,
    type: z.enum(PAYMENT_STATUSES.map((status) => `${kind}.${status}` as const) as [`${K}.${PaymentStatus}`]),
    object,
    webhook_id: uuid,
  });
}

export const withdrawalEventSchema = eventSchema('WITHDRAWAL', withdrawalObjectSchema);
export const directDebitEventSchema = eventSchema('DIRECT_DEBIT', directDebitObjectSchema);

export type WithdrawalEvent = z.infer<typeof withdrawalEventSchema>;
export type DirectDebitEvent = z.infer<typeof directDebitEventSchema>;
export type PaymentEvent = WithdrawalEvent | DirectDebitEvent;

/** The kind of payment an event type belongs to, or undefined for types this service does not project. */
export function paymentKindOf(type: string): PaymentKind | undefined {
  return PAYMENT_KINDS.find((kind) => type.startsWith(`${kind}.`));
}

export function schemaFor(kind: PaymentKind): typeof withdrawalEventSchema | typeof directDebitEventSchema {
  return kind === 'WITHDRAWAL' ? withdrawalEventSchema : directDebitEventSchema;
}

const EVENT_CHECKS = { WITHDRAWAL: compileCheck(withdrawalEventSchema), DIRECT_DEBIT: compileCheck(directDebitEventSchema) };

/**
 * Whether a value is a valid event of the kind, as its schema says (schemaFor(kind).safeParse
 * succeeds), checked without copying it: the value itself is then the event.
 */
export function isValidEvent(kind: PaymentKind, value: unknown): value is PaymentEvent {
  return EVENT_CHECKS[kind](value);
}

/** The status a payment should show after this event: it comes from the type, not from `object.status`. */
export function statusOf(event: PaymentEvent): PaymentStatus {
  return event.type.slice(event.type.indexOf('.') + 1) as PaymentStatus;
}

export function kindOf(event: PaymentEvent): PaymentKind {
  return paymentKindOf(event.type) as PaymentKind;
}
