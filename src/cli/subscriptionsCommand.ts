import {
  deliveriesQuery,
  newSubscriptionBody,
  replayBody,
  rotateSecretBody,
  subscriptionChangesBody,
  subscriptionId,
} from '../operations/operationInputs';
import { DeliveryQuery, DeliveryView, PushSubscriptions } from '../push/PushSubscriptions';
import { SubscriptionView } from '../push/subscription';
import { SubscriptionUrlPolicy } from '../push/SubscriptionUrlPolicy';
import { jsonText } from '../shared/jsonText';
import { COMMAND_POOL_SIZE, migrateIfConfigured, openDatabase } from '../wiring/infrastructure';
import { subscriptionUrlPolicyOf } from '../wiring/subscriptionUrlPolicy';
import { cliCommand, CommandSetup } from './CliCommand';
import { CliValues } from './cliOptions';
import { CliIo, EXIT } from './CliIo';
import { formatTable } from './formatTable';
import { parsedOrUsage, singleArgument } from './arguments';
import { UsageError } from './errors';

interface SubscriptionOperations {
  /** Which URLs a subscription may be given: from the configuration alone, to check the arguments before connecting. */
  urls: SubscriptionUrlPolicy;
  /** The subscriptions in the migrated database, opened on the first call. */
  store(): Promise<PushSubscriptions>;
}

/** What the subscriptions commands use: the migrated database only. */
async function wireSubscriptions({ config, logger, resources }: CommandSetup): Promise<SubscriptionOperations> {
  let store: Promise<PushSubscriptions> | undefined;
  const open = async () => {
    await migrateIfConfigured(config.database, logger);
    return new PushSubscriptions(openDatabase(config.database.url, COMMAND_POOL_SIZE, resources).pool);
  };
  return { urls: subscriptionUrlPolicyOf(config), store: () => (store ??= open()) };
}

/** `subscriptions add|list|show|update|disable|enable|delete|rotate-secret|replay|deliveries`: the push's subscribers. */
export const subscriptionsCommand = cliCommand(wireSubscriptions, async ({ subcommand, args, values, io, operations }) => {
  const command = `subscriptions ${subcommand ?? ''}`.trim();
  const id = () => parsedOrUsage(subscriptionId, singleArgument(args, command, 'subscription id'), 'id');
  const subscriptions = async () => (await operations()).store();
  const show = (subscription: SubscriptionView) => io.out(values.json ? jsonText(subscription, 2) : describe(subscription));
  switch (subcommand) {
    case 'add': {
      const { urls } = await operations();
      const input = parsedOrUsage(newSubscriptionBody(urls), { url: values.url, description: values.description, ...filtersOf(values) }, command);
      showWithSecret(await (await subscriptions()).add(input), values, io);
      return EXIT.ok;
    }
    case 'list': {
      const rows = await (await subscriptions()).list();
      if (values.json) io.out(jsonText(rows, 2));
      else io.out(`${formatTable(['ID', 'STATE', 'UNDELIVERED', 'POSITION', 'URL'], rows.map((row) => [row.id, row.state, String(row.undelivered), row.position, row.url]))}\n${rows.length} subscription(s)`);
      return EXIT.ok;
    }
    case 'show': {
      const subscriptionOf = id();
      // The last few by default, so that the subscription stays on the screen.
      const query = deliveriesOf(values, command, '10');
      const store = await subscriptions();
      const subscription = await store.find(subscriptionOf);
      const deliveries = await store.deliveries(subscriptionOf, query);
      io.out(values.json ? jsonText({ subscription, deliveries }, 2) : `${describe(subscription)}\n\n${deliveriesTable(deliveries)}`);
      return EXIT.ok;
    }
    case 'update': {
      const subscriptionOf = id();
      const { urls } = await operations();
      const changes = parsedOrUsage(subscriptionChangesBody(urls), withoutUndefined({ url: values.url, description: values.description, ...filtersOf(values) }), command);
      show(await (await subscriptions()).update(subscriptionOf, changes));
      return EXIT.ok;
    }
    case 'disable':
    case 'enable': {
      const subscriptionOf = id();
      show(await (await subscriptions())[subcommand](subscriptionOf));
      return EXIT.ok;
    }
    case 'delete': {
      const subscriptionOf = id();
      await (await subscriptions()).delete(subscriptionOf);
      io.out(`subscription ${subscriptionOf} deleted`);
      return EXIT.ok;
    }
    case 'rotate-secret': {
      const subscriptionOf = id();
      const input = parsedOrUsage(rotateSecretBody, withoutUndefined({ overlap_seconds: values.overlap === undefined ? undefined : secondsOf(values.overlap) }), command);
      showWithSecret(await (await subscriptions()).rotateSecret(subscriptionOf, input.overlap_seconds), values, io);
      return EXIT.ok;
    }
    case 'replay': {
      const subscriptionOf = id();
      const from = parsedOrUsage(replayBody, withoutUndefined({ position: values['from-position'], since: values.since }), `${command} (--from-position T.ID or --since DATE)`);
      const store = await subscriptions();
      show('position' in from ? await store.replayFrom(subscriptionOf, from.position) : await store.replaySince(subscriptionOf, from.since));
      return EXIT.ok;
    }
    case 'deliveries': {
      const subscriptionOf = id();
      const query = deliveriesOf(values, command);
      const rows = await (await subscriptions()).deliveries(subscriptionOf, query);
      io.out(values.json ? jsonText(rows, 2) : deliveriesTable(rows));
      return EXIT.ok;
    }
    default:
      throw new UsageError(`unknown subscriptions command: ${subcommand ?? '(none)'}`);
  }
});

/** --kinds/--statuses as lists, --all-kinds/--all-statuses as null (every one); left out when not given. */
function filtersOf(values: CliValues): { payment_kinds?: string[] | null; statuses?: string[] | null } {
  const list = (name: 'kinds' | 'statuses') => {
    const [text, all] = [values[name], values[`all-${name}`]];
    if (all && text !== undefined) throw new UsageError(`give --${name} or --all-${name}, not both`);
    return all ? null : text?.split(',').map((entry) => entry.trim().toUpperCase());
  };
  return withoutUndefined({ payment_kinds: list('kinds'), statuses: list('statuses') });
}

/** --undelivered and --limit, validated as the admin API validates its query. */
function deliveriesOf(values: CliValues, command: string, defaultLimit?: string): DeliveryQuery {
  return parsedOrUsage(deliveriesQuery, withoutUndefined({ undelivered: String(values.undelivered), limit: values.limit ?? defaultLimit }), command);
}

function deliveriesTable(rows: DeliveryView[]): string {
  const cells = rows.map((row) => [
    row.event_id,
    `${row.payment_kind} ${row.status}`,
    String(row.attempts),
    row.delivered_at ?? (row.in_flight ? 'sending' : `next ${row.next_attempt_at ?? '-'}`),
    row.last_response_code === null ? '-' : String(row.last_response_code),
    row.last_error ?? '',
  ]);
  return `${formatTable(['WEBHOOK-ID', 'CHANGE', 'ATTEMPTS', 'DELIVERED', 'CODE', 'LAST ERROR'], cells)}\n${rows.length} delivery(ies)`;
}

function withoutUndefined<T extends Record<string, unknown>>(object: T): Partial<T> {
  return Object.fromEntries(Object.entries(object).filter(([, value]) => value !== undefined)) as Partial<T>;
}

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

/** --overlap as 3600, 3600s, 90m, 24h or 7d. */
function secondsOf(text: string): number {
  const match = /^([0-9]{1,7})([smhd]?)$/.exec(text);
  if (match === null) throw new UsageError(`--overlap must look like 24h, 90m, 3600s or 7d, not ${text}`);
  return Number(match[1]) * UNIT_SECONDS[match[2] || 's'];
}

function showWithSecret(result: { subscription: SubscriptionView; secret: string }, values: CliValues, io: CliIo): void {
  if (values.json) {
    io.out(jsonText(result, 2));
    return;
  }
  io.out(`${describe(result.subscription)}\n\nsigning secret (shown only this once): ${result.secret}`);
}

function describe(subscription: SubscriptionView): string {
  const filter = (values: string[] | null) => (values === null ? 'all' : values.join(','));
  return [
    `${subscription.id}  ${subscription.state}${subscription.failing_since === null ? '' : ` since ${subscription.failing_since}`}`,
    `  url:         ${subscription.url}`,
    `  description: ${subscription.description || '-'}`,
    `  kinds:       ${filter(subscription.payment_kinds)}   statuses: ${filter(subscription.statuses)}`,
    `  position:    ${subscription.position} (dispatched ${subscription.dispatched})`,
    `  undelivered: ${subscription.undelivered}${subscription.oldest_undelivered_recorded_at === null ? '' : `, oldest recorded ${subscription.oldest_undelivered_recorded_at}`}`,
    ...(subscription.previous_secret_expires_at === null ? [] : [`  previous secret signs until ${subscription.previous_secret_expires_at}`]),
  ].join('\n');
}
