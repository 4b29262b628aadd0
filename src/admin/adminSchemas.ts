import { z } from 'zod';
import { PaymentKind } from '../events/upvestEvents';
import { describeZodIssues } from '../shared/describeZodIssues';

/** The input of the admin operations, validated the same way for HTTP and the CLI. */

/** Payment kinds as they appear in paths and on the command line. */
export const PAYMENT_KIND_NAMES = { withdrawals: 'WITHDRAWAL', 'direct-debits': 'DIRECT_DEBIT' } as const satisfies Record<string, PaymentKind>;

const page = {
  limit: z.coerce.number().int().min(1).max(500).default(50),
  offset: z.coerce.number().int().min(0).default(0),
};

// The same filter for listing and for retrying, so that a list shows what a retry would take.
const filter = {
  type: z.string().min(1).max(200).optional(),
  failedReasonContains: z.string().min(1).max(1000).optional(),
};

export const failedJobsQuery = z.object({ ...page, ...filter });

export const retryFilterBody = z.strictObject({ ...filter, limit: z.coerce.number().int().min(1).optional() });

export const quarantineQuery = z.object(page);

export const jobId = z.string().min(1).max(200);

export const quarantineId = z
  .string()
  .regex(/^[1-9][0-9]{0,17}$/, 'must be a quarantined payload id (a positive whole number)')
  .transform((id) => BigInt(id));

export const paymentTarget = z.object({
  kind: z.enum(Object.keys(PAYMENT_KIND_NAMES) as [keyof typeof PAYMENT_KIND_NAMES]).transform((name) => PAYMENT_KIND_NAMES[name]),
  // Any 8-4-4-4-12 hex id: the provider's ids are not all RFC 4122 uuids.
  id: z.guid('must be a payment id (a uuid)'),
});

/** The parsed value, or one line naming every problem. */
export function parseInput<T extends z.ZodType>(schema: T, input: unknown): { value: z.output<T> } | { problem: string } {
  const result = schema.safeParse(input);
  if (result.success) return { value: result.data };
  return { problem: describeZodIssues(result.error) };
}

/** JSON for answers and --json output: ids of quarantined payloads are bigints. */
export function jsonText(value: unknown, indent?: number): string {
  return JSON.stringify(value, (_key, item) => (typeof item === 'bigint' ? item.toString() : item), indent);
}
