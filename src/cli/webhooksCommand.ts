import { UpvestApi, Webhook, WebhookSettings } from '../provider/UpvestApi';
import { UpvestApiError } from '../provider/UpvestApiError';
import { CliIo, EXIT } from './CliIo';
import { formatTable } from './formatTable';

export interface RegisterOptions {
  url: string;
  title: string;
  types: string[];
  delay: string;
  maxPackageSize: number;
}

const PAGE_SIZE = 100;

/**
 * Creates the subscription for `url`, or updates the one that already has it, and makes sure it
 * is enabled (the provider may create it disabled). Running it twice changes nothing the second time.
 */
export async function registerWebhook(api: UpvestApi, options: RegisterOptions): Promise<{ action: 'created' | 'updated'; webhook: Webhook }> {
  const settings: WebhookSettings = {
    title: options.title,
    url: options.url,
    type: options.types,
    config: { delay: options.delay, max_package_size: options.maxPackageSize },
  };
  const existing = (await allWebhooks(api)).find((webhook) => sameUrl(webhook.url, options.url));
  if (existing !== undefined) {
    return { action: 'updated', webhook: await api.updateWebhook(existing.id, { ...settings, enabled: true }) };
  }
  const created = await api.createWebhook(settings);
  return { action: 'created', webhook: created.enabled ? created : await api.updateWebhook(created.id, { enabled: true }) };
}

export async function allWebhooks(api: UpvestApi): Promise<Webhook[]> {
  const webhooks: Webhook[] = [];
  for (let offset = 0; ; offset += PAGE_SIZE) {
    const page = await api.listWebhooks({ limit: PAGE_SIZE, offset });
    webhooks.push(...page.data);
    if (page.data.length < PAGE_SIZE || webhooks.length >= page.meta.total_count) return webhooks;
  }
}

function sameUrl(a: string, b: string): boolean {
  try {
    return new URL(a).href === new URL(b).href;
  } catch {
    return a === b;
  }
}

export function printWebhooks(io: CliIo, webhooks: Webhook[], json: boolean): void {
  if (json) {
    io.out(JSON.stringify(webhooks, null, 2));
    return;
  }
  io.out(
    formatTable(
      ['ID', 'ENABLED', 'URL', 'TYPES', 'DELAY', 'MAX PACKAGE', 'TITLE'],
      webhooks.map((webhook) => [
        webhook.id,
        webhook.enabled ? 'yes' : 'no',
        webhook.url,
        webhook.type.join(','),
        webhook.config?.delay ?? '-',
        String(webhook.config?.max_package_size ?? '-'),
        webhook.title,
      ]),
    ),
  );
}

/** 404 becomes its own exit code, so that scripts can tell "no such webhook" from a failure. */
export async function withWebhookId(io: CliIo, id: string, action: () => Promise<string>): Promise<number> {
  try {
    io.out(await action());
    return EXIT.ok;
  } catch (error) {
    if (!(error instanceof UpvestApiError && error.status === 404)) throw error;
    io.err(`no webhook with id ${id} (upvest-request-id ${error.requestId ?? 'unknown'})`);
    return EXIT.notFound;
  }
}
