import { z } from 'zod';
import { canonicalTimestamp } from '../events/timestamps';
import { PAYMENT_STATUSES } from '../events/upvestEvents';
import { ListFilters } from './PaymentReader';

export const MAX_LIMIT = 1000;
export const DEFAULT_LIMIT = 100;

// Any 8-4-4-4-12 hex, as Postgres' uuid takes it: the provider's ids are not all RFC 9562 uuids.
const uuid = z.guid('must be a uuid');

const integer = (minimum: number, maximum: number, fallback: number) =>
  z
    .string()
    .regex(/^[0-9]{1,9}$/, 'must be a non-negative integer')
    .transform(Number)
    .pipe(z.number().min(minimum, `must be at least ${minimum}`).max(maximum, `must be at most ${maximum}`))
    .default(fallback);

// Strict: a misspelt filter (say `userid`) must not silently widen the answer to every payment.
const listQuerySchema = z.strictObject({
  user_id: uuid.optional(),
  account_group_id: uuid.optional(),
  status: z.enum(PAYMENT_STATUSES, `must be one of ${PAYMENT_STATUSES.join(', ')}`).optional(),
  updated_since: z
    .string()
    .transform((value, context) => canonicalTimestamp(value) ?? (context.addIssue('must be an RFC 3339 date-time'), z.NEVER))
    .optional(),
  limit: integer(1, MAX_LIMIT, DEFAULT_LIMIT),
  offset: integer(0, 999_999_999, 0),
});

const noQuerySchema = z.strictObject({});

export type Parsed<T> = { ok: true; value: T } | { ok: false; detail: string };

export function parseListQuery(query: unknown): Parsed<ListFilters> {
  return parsed(listQuerySchema.safeParse(query));
}

/** The single-resource endpoints take no query parameters. */
export function parseNoQuery(query: unknown): Parsed<object> {
  return parsed(noQuerySchema.safeParse(query));
}

export function parsePaymentId(id: string): Parsed<string> {
  return uuid.safeParse(id).success ? { ok: true, value: id } : { ok: false, detail: `The id '${id}' is not a uuid.` };
}

function parsed<T>(result: z.ZodSafeParseResult<T>): Parsed<T> {
  if (result.success) return { ok: true, value: result.data };
  return { ok: false, detail: result.error.issues.map(describe).join('; ') };
}

function describe(issue: z.core.$ZodIssue): string {
  if (issue.code === 'unrecognized_keys') return `unknown query parameter(s): ${issue.keys.join(', ')}`;
  // A repeated parameter arrives as an array.
  if (issue.code === 'invalid_type') return `${issue.path.join('.')}: must be given once, as a string`;
  return `${issue.path.join('.')}: ${issue.message}`;
}
