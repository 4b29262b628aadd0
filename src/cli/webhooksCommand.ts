import { isIP } from 'node:net';
import { UpvestApi, Webhook, WebhookSettings } from '../provider/UpvestApi';
import { UpvestApiError } from '../provider/errors';
import { upvestApiOf } from '../wiring/infrastructure';
import { cliCommand, CommandSetup, withCredentials } from './CliCommand';
import { CliValues } from './cliOptions';
import { CliIo, EXIT } from './CliIo';
import { formatTable } from './formatTable';
import { singleArgument } from './arguments';
import { UsageError } from './errors';

interface RegisterOptions {
  url: string;
  title: string;
  types: string[];
  delay: string;
  maxPackageSize: number;
}

const PAGE_SIZE = 100;

/** What the webhooks commands use: the provider's API only, no database. */
async function wireProviderApi({ config, logger }: CommandSetup): Promise<UpvestApi> {
  return withCredentials(upvestApiOf(config, logger));
}

/** `webhooks register|list|delete|test`: this service's subscriptions at the provider. */
export const webhooksCommand = cliCommand(wireProviderApi, async ({ subcommand, args, values, io, operations }) => {
  const api = await operations();
  switch (subcommand) {
    case 'register': {
      const { action, webhook } = await registerWebhook(api, registerOptions(values));
      if (values.json) {
        io.out(JSON.stringify({ action, webhook }, null, 2));
      } else {
        io.out(`webhook ${action} and enabled:\n`);
        printWebhooks(io, [webhook], false);
      }
      return EXIT.ok;
    }
    case 'list':
      printWebhooks(io, await allWebhooks(api), values.json ?? false);
      return EXIT.ok;
    case 'delete':
    case 'test': {
      const id = singleArgument(args, `webhooks ${subcommand}`, 'webhook id');
      if (subcommand === 'delete') {
        return withWebhookId(io, id, async () => {
          await api.deleteWebhook(id);
          return `webhook ${id} deleted`;
        });
      }
      return withWebhookId(io, id, async () => {
        const answer = await api.testWebhook(id);
        return `test delivery requested for webhook ${id}: the provider answered ${answer.status} (upvest-request-id ${answer.requestId ?? 'unknown'}); it delivers asynchronously, watch this service's logs for the request`;
      });
    }
    default:
      throw new UsageError(`unknown webhooks command: ${subcommand ?? '(none)'}`);
  }
});

/** The subscription the options ask for; a UsageError naming the first bad option otherwise. */
function registerOptions(values: CliValues): RegisterOptions {
  if (values.url === undefined) throw new UsageError('--url is required');
  let url: URL;
  try {
    url = new URL(values.url);
  } catch {
    throw new UsageError(`--url is not a URL: ${values.url}`);
  }
  // The provider delivers only over HTTPS to a DNS name, and refuses such a subscription anyway.
  if (url.protocol !== 'https:') throw new UsageError(`--url must be an https URL, not ${values.url}`);
  if (isIP(url.hostname.replace(/^\[|\]$/g, '')) !== 0) throw new UsageError(`--url must name its host by DNS name, not IP address: ${values.url}`);
  if (!/^[1-9][0-9]?[sm]$/.test(values.delay as string)) throw new UsageError(`--delay must look like 5s or 1m (1-99, s or m), not ${values.delay}`);
  const maxPackageSize = Number(values['max-package-size']);
  if (!Number.isInteger(maxPackageSize) || maxPackageSize < 100 || maxPackageSize > 1048576) {
    throw new UsageError(`--max-package-size must be a whole number from 100 to 1048576, not ${values['max-package-size']}`);
  }
  const types = (values.types as string).split(',').map((type) => type.trim().toUpperCase()).filter((type) => type !== '');
  if (types.length === 0) throw new UsageError('--types must name at least one event category');
  return { url: values.url, title: values.title as string, types, delay: values.delay as string, maxPackageSize };
}

/**
 * Creates the subscription for `url`, or updates the one that already has it, and makes sure it
 * is enabled (the provider may create it disabled). Running it twice changes nothing the second time.
 */
async function registerWebhook(api: UpvestApi, options: RegisterOptions): Promise<{ action: 'created' | 'updated'; webhook: Webhook }> {
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

async function allWebhooks(api: UpvestApi): Promise<Webhook[]> {
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

function printWebhooks(io: CliIo, webhooks: Webhook[], json: boolean): void {
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
async function withWebhookId(io: CliIo, id: string, action: () => Promise<string>): Promise<number> {
  try {
    io.out(await action());
    return EXIT.ok;
  } catch (error) {
    if (!(error instanceof UpvestApiError && error.status === 404)) throw error;
    io.err(`no webhook with id ${id} (upvest-request-id ${error.requestId ?? 'unknown'})`);
    return EXIT.notFound;
  }
}
