import { z } from 'zod';
import { PaymentKind } from '../events/upvestEvents';
import { PAYMENT_RESOURCES, PaymentResource } from '../readApi/paymentResources';
import { describeZodIssues } from '../shared/describeZodIssues';

/** The input of the operations, validated the same way for the admin API and the CLI. */

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
  // Payment kinds as they appear in the read API's paths: withdrawals, direct-debits.
  kind: z
    .enum(PAYMENT_RESOURCES.map((resource) => resource.path) as [PaymentResource['path']])
    .transform((path): PaymentKind => (PAYMENT_RESOURCES.find((resource) => resource.path === path) as PaymentResource).kind),
  // Any 8-4-4-4-12 hex id: the provider's ids are not all RFC 4122 uuids.
  id: z.guid('must be a payment id (a uuid)'),
});

/** The parsed value, or one line naming every problem. */
export function parseInput<T extends z.ZodType>(schema: T, input: unknown): { value: z.output<T> } | { problem: string } {
  const result = schema.safeParse(input);
  if (result.success) return { value: result.data };
  return { problem: describeZodIssues(result.error) };
}
