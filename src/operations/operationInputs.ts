import { z } from 'zod';
import { canonicalTimestamp } from '../events/timestamps';
import { PAYMENT_KINDS, PAYMENT_STATUSES, PaymentKind } from '../events/upvestEvents';
import { SubscriptionUrlPolicy } from '../push/SubscriptionUrlPolicy';
import { PAYMENT_RESOURCES, PaymentResource } from '../changes/paymentResources';
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

export const subscriptionId = z.guid('must be a subscription id (a uuid)');

const MAX_OVERLAP_SECONDS = 30 * 24 * 3600;

/** The URL, which the policy must let through: https in production, no internal address unless allowed. */
const subscriptionUrl = (urls: SubscriptionUrlPolicy) =>
  z
    .url({ protocol: /^https?$/, message: 'must be an http(s) URL' })
    .max(2048)
    .superRefine((text, context) => {
      const refusal = urls.refusalOf(new URL(text));
      if (refusal !== undefined) context.addIssue({ code: 'custom', message: refusal.error });
    });

// Null (or left out when adding): every kind, every status.
const subscriptionFilters = {
  payment_kinds: z.array(z.enum(PAYMENT_KINDS)).min(1).nullable().optional(),
  statuses: z.array(z.enum(PAYMENT_STATUSES)).min(1).nullable().optional(),
};

const description = z.string().max(500);

export const newSubscriptionBody = (urls: SubscriptionUrlPolicy) =>
  z.strictObject({ url: subscriptionUrl(urls), description: description.optional(), ...subscriptionFilters });

export const subscriptionChangesBody = (urls: SubscriptionUrlPolicy) =>
  z
    .strictObject({ url: subscriptionUrl(urls).optional(), description: description.optional(), ...subscriptionFilters })
    .refine((changes) => Object.keys(changes).length > 0, 'name at least one of url, description, payment_kinds, statuses');

// Not coerced: a JSON null or "" would become 0, an overlap of none, and cut the subscriber off at once.
export const rotateSecretBody = z.strictObject({
  overlap_seconds: z.number().int().min(0).max(MAX_OVERLAP_SECONDS).default(24 * 3600),
});

/** From a position shown by the subscription (`<transaction>.<id>`), or from the first change recorded at or after a time. */
export const replayBody = z.union([
  z.strictObject({
    position: z
      .string()
      .regex(/^[0-9]{1,20}\.[0-9]{1,19}$/, 'must be a position as a subscription shows it (<transaction>.<id>)')
      .transform((position) => {
        const [transaction, id] = position.split('.');
        return { transaction, id };
      })
      // Within xid8 and bigint, so that Postgres does not refuse it with a 500.
      .refine(({ transaction, id }) => BigInt(transaction) < 2n ** 64n && BigInt(id) < 2n ** 63n, 'is out of range'),
  }),
  z.strictObject({
    since: z.string().transform((value, context) => canonicalTimestamp(value) ?? (context.addIssue('must be an RFC 3339 date-time'), z.NEVER)),
  }),
]);

export const deliveriesQuery = z.object({
  undelivered: z.enum(['true', 'false']).default('false').transform((value) => value === 'true'),
  limit: page.limit,
});

/** The parsed value, or one line naming every problem. */
export function parseInput<T extends z.ZodType>(schema: T, input: unknown): { value: z.output<T> } | { problem: string } {
  const result = schema.safeParse(input);
  if (result.success) return { value: result.data };
  return { problem: describeZodIssues(result.error) };
}
