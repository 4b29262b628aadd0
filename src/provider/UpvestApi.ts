import { z } from 'zod';
import { directDebitObjectSchema, PaymentKind, withdrawalObjectSchema } from '../events/upvestEvents';
import { ApiResponse, CallOptions, HttpMethod, UpvestApiClient } from './UpvestApiClient';
import { UpvestApiError } from './errors';
import { describeZodIssues } from '../shared/describeZodIssues';

export const webhookSchema = z.looseObject({
  id: z.string(),
  title: z.string(),
  url: z.string(),
  type: z.array(z.string()),
  enabled: z.boolean(),
  config: z.looseObject({ delay: z.string().optional(), max_package_size: z.number().optional() }).optional(),
  created_at: z.string().optional(),
  updated_at: z.string().optional(),
});
export type Webhook = z.infer<typeof webhookSchema>;

export interface WebhookSettings {
  title: string;
  url: string;
  type: string[];
  config: { delay: string; max_package_size: number };
}

const pageMeta = z.object({ offset: z.number(), limit: z.number(), count: z.number(), total_count: z.number() });

export interface Page<T> {
  meta: z.infer<typeof pageMeta>;
  data: T[];
}

export interface PageRequest {
  limit: number;
  offset: number;
  sort?: 'created_at' | 'id';
  order?: 'ASC' | 'DESC';
}

export const PAYMENT_RESOURCE_SCHEMAS = { WITHDRAWAL: withdrawalObjectSchema, DIRECT_DEBIT: directDebitObjectSchema } as const;

const PAYMENT_PATHS: Record<PaymentKind, string> = { WITHDRAWAL: '/payments/withdrawals', DIRECT_DEBIT: '/payments/direct_debits' };

const WEBHOOKS_READ = ['webhooks:read'];
const WEBHOOKS_ADMIN = ['webhooks:admin'];
const PAYMENTS_READ = ['payments:read'];

/**
 * The endpoints this service uses, typed: each validates the provider's answer, so that a changed
 * API fails here with a clear message instead of writing nonsense into the status tables.
 */
export class UpvestApi {
  constructor(private readonly client: UpvestApiClient) {}

  /** The JWKS the provider signs webhooks with (validated by VerificationKeySet.fromJwks). */
  async verificationKeys(): Promise<unknown> {
    return (await this.client.call('GET', '/auth/verify_keys', { scopes: WEBHOOKS_READ })).body;
  }

  async listWebhooks(page: PageRequest): Promise<Page<Webhook>> {
    return this.page('/webhooks', webhookSchema, WEBHOOKS_READ, page);
  }

  async createWebhook(settings: WebhookSettings): Promise<Webhook> {
    return this.expect('POST', '/webhooks', webhookSchema, { scopes: WEBHOOKS_ADMIN, json: settings });
  }

  async updateWebhook(id: string, changes: Partial<WebhookSettings> & { enabled?: boolean }): Promise<Webhook> {
    return this.expect('PATCH', `/webhooks/${encodeURIComponent(id)}`, webhookSchema, { scopes: WEBHOOKS_ADMIN, json: changes });
  }

  async deleteWebhook(id: string): Promise<void> {
    await this.client.call('DELETE', `/webhooks/${encodeURIComponent(id)}`, { scopes: WEBHOOKS_ADMIN });
  }

  /**
   * Asks the provider to send a test delivery; it answers 202 and delivers asynchronously. The
   * spec says POST, the docs GET: a 405 to the one is answered by trying the other.
   */
  async testWebhook(id: string): Promise<ApiResponse> {
    const path = `/webhooks/${encodeURIComponent(id)}/test`;
    try {
      return await this.client.call('POST', path, { scopes: WEBHOOKS_ADMIN });
    } catch (error) {
      if (!(error instanceof UpvestApiError && error.status === 405)) throw error;
      return this.client.call('GET', path, { scopes: WEBHOOKS_ADMIN });
    }
  }

  /** Validated by the caller (fetchedPaymentEvent), as list items are: it says what is wrong with it. */
  async payment(kind: PaymentKind, id: string): Promise<unknown> {
    return (await this.client.call('GET', `${PAYMENT_PATHS[kind]}/${encodeURIComponent(id)}`, { scopes: PAYMENTS_READ })).body;
  }

  async listPayments(kind: PaymentKind, page: PageRequest): Promise<Page<unknown>> {
    // Items are validated one by one by the caller: one malformed payment must not hide a whole page.
    return this.page(PAYMENT_PATHS[kind], z.unknown(), PAYMENTS_READ, page);
  }

  private async page<T extends z.ZodType>(path: string, item: T, scopes: string[], page: PageRequest): Promise<Page<z.infer<T>>> {
    const schema = z.looseObject({ meta: pageMeta, data: z.array(item) });
    return this.expect('GET', path, schema, { scopes, query: { ...page } });
  }

  private async expect<T extends z.ZodType>(method: HttpMethod, path: string, schema: T, options: CallOptions): Promise<z.infer<T>> {
    const answer = await this.client.call(method, path, options);
    const parsed = schema.safeParse(answer.body);
    if (!parsed.success) {
      throw new UpvestApiError(method, path, answer.status, { detail: `unexpected answer: ${describeZodIssues(parsed.error, 3)}` }, answer.requestId);
    }
    return parsed.data;
  }
}
