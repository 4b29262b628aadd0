import { isIP } from 'node:net';
import { Config, ConfigError, loadConfig } from '../config/config';
import { Logger } from '../logging/logger';
import { ProjectionStore } from '../projection/ProjectionStore';
import { UpvestApi } from '../provider/UpvestApi';
import { UpvestApiClient } from '../provider/UpvestApiClient';
import { UpvestApiError, UpvestApiUnavailableError } from '../provider/UpvestApiError';
import { Backfill, BackfillReport } from '../reconciliation/Backfill';
import { parseCommandLine, usageError } from '../tools/commandLine';
import { CliValues, CLI_OPTIONS } from './cliOptions';
import { CliIo, EXIT } from './CliIo';
import { withDatabase } from './cliResources';
import { formatTable } from './formatTable';
import { jobsCommand } from './jobsCommand';
import { paymentsCommand } from './paymentsCommand';
import { quarantineCommand } from './quarantineCommand';
import { singleArgument, UsageError } from './UsageError';
import { allWebhooks, printWebhooks, registerWebhook, withWebhookId } from './webhooksCommand';

const USAGE = `Usage: npm run cli -- <command> [options]

Commands:
  webhooks register --url URL [--types WITHDRAWAL,DIRECT_DEBIT] [--delay 5s]
                    [--max-package-size 10240] [--title TEXT] [--json]
      Subscribes URL to the events, or updates the subscription that has this URL, and enables it.
  webhooks list [--json]
  webhooks delete <id>
  webhooks test <id>
      Asks the provider to send a test delivery to the webhook.
  backfill --since YYYY-MM-DD [--page-size 100] [--restart] [--json]
      Fetches every withdrawal and direct debit created since the date and projects it. Resumes
      where an interrupted run with the same --since stopped, unless --restart.

  jobs failed [--type T] [--reason TEXT] [--limit 50] [--offset 0] [--json]
      Lists the events queue's failed jobs, newest first: each the job of one event. --type is an
      event type (WITHDRAWAL.NEW) or a prefix ending in "." (WITHDRAWAL.).
  jobs show <id>
      Prints one job (any state) with its data and stack trace, and for the job of one event the
      event as received with its state in the inbox, as JSON.
  jobs retry <id>
      Moves a failed job back to waiting, with fresh attempts.
  jobs retry-failed [--type T] [--reason TEXT] [--limit N] [--json]
      Retries every failed job of the type whose failure reason contains TEXT (case-insensitive).
  jobs quarantine <id>
      Moves the event of a failed event job that cannot succeed from the inbox into quarantine and
      removes the job; quarantine reprocess receives it again after a fix.
  quarantine list [--limit 50] [--offset 0] [--json]
  quarantine show <id> [--json]
      Prints a quarantined payload with its whole content.
  quarantine reprocess <id> [--json]
      Runs the content through the webhook's ingest again (after a fix): what is valid now is
      committed to the inbox and queued.
  payments reproject <withdrawals|direct-debits> <id>
      Rebuilds the payment's row from its events in webhook_events and prints it as JSON.

Reads the same environment variables as the service. webhooks and backfill need the Upvest API
credentials: UPVEST_BASE_URL, UPVEST_CLIENT_ID, UPVEST_CLIENT_SECRET, UPVEST_SIGNING_KEY(_FILE),
UPVEST_SIGNING_KEY_ID. backfill, quarantine and payments use DATABASE_URL; jobs and
quarantine reprocess use DATABASE_URL, REDIS_URL and REDIS_PREFIX.

Exit codes: 0 success, 1 the operation failed (the API, the database or Redis failed, or the job
is not failed), 2 bad usage or configuration, 3 no such webhook, job, quarantined payload or
payment events.`;

/** `npm run cli`; returns the exit code. */
export async function runCli(argv: string[], io: CliIo, environment: NodeJS.ProcessEnv, logger: Logger): Promise<number> {
  const parsed = parseCommandLine(USAGE, { args: argv, options: CLI_OPTIONS, allowPositionals: true }, io);
  if (typeof parsed === 'number') return parsed;
  const values = parsed.values as CliValues;
  const [command, subcommand, ...rest] = parsed.positionals;
  let config: Config;
  try {
    config = loadConfig(environment);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    io.err(error.message);
    return EXIT.usage;
  }
  try {
    switch (command) {
      case 'webhooks':
      case 'backfill':
        return await providerCommand(config, parsed.positionals, values, io, logger);
      case 'jobs':
        return await operatorCommand(io, () => jobsCommand(config, subcommand, rest, values, io));
      case 'quarantine':
        return await operatorCommand(io, () => quarantineCommand(config, subcommand, rest, values, io, logger));
      case 'payments':
        return await operatorCommand(io, () => paymentsCommand(config, subcommand, rest, io));
      default:
        return usageError(USAGE, command === undefined ? 'no command given' : `unknown command: ${parsed.positionals.join(' ')}`, io);
    }
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    return usageError(USAGE, error.message, io);
  }
}

/** The operator's commands need only Postgres and Redis; their failures are reported, not thrown. */
async function operatorCommand(io: CliIo, run: () => Promise<number>): Promise<number> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof UsageError) throw error;
    io.err(`error: ${(error as Error).message}`);
    return EXIT.failed;
  }
}

/** The commands that talk to the provider's API, and so need its credentials. */
async function providerCommand(config: Config, positionals: string[], values: CliValues, io: CliIo, logger: Logger): Promise<number> {
  const [command, subcommand, ...rest] = positionals;
  if (config.upvestApi === undefined) {
    io.err('The Upvest API credentials are not configured: set UPVEST_CLIENT_ID, UPVEST_CLIENT_SECRET, UPVEST_SIGNING_KEY(_FILE) and UPVEST_SIGNING_KEY_ID.');
    return EXIT.usage;
  }
  const api = new UpvestApi(new UpvestApiClient({ ...config.upvestApi, logger }));
  try {
    if (command === 'webhooks') return await webhooks(api, subcommand, rest, values, io);
    if (subcommand === undefined) return await backfill(api, config, values, io, logger);
    return usageError(USAGE, `unknown command: ${positionals.join(' ')}`, io);
  } catch (error) {
    if (!(error instanceof UpvestApiError || error instanceof UpvestApiUnavailableError)) throw error;
    io.err(`error: ${error.message}`);
    return EXIT.failed;
  }
}

async function webhooks(api: UpvestApi, subcommand: string | undefined, args: string[], values: CliValues, io: CliIo): Promise<number> {
  switch (subcommand) {
    case 'register': {
      const options = registerOptions(values);
      if (typeof options === 'string') return usageError(USAGE, options, io);
      const { action, webhook } = await registerWebhook(api, options);
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
      return usageError(USAGE, `unknown webhooks command: ${subcommand ?? '(none)'}`, io);
  }
}

function registerOptions(values: CliValues): Parameters<typeof registerWebhook>[1] | string {
  if (values.url === undefined) return '--url is required';
  let url: URL;
  try {
    url = new URL(values.url);
  } catch {
    return `--url is not a URL: ${values.url}`;
  }
  // The provider delivers only over HTTPS to a DNS name, and refuses such a subscription anyway.
  if (url.protocol !== 'https:') return `--url must be an https URL, not ${values.url}`;
  if (isIP(url.hostname.replace(/^\[|\]$/g, '')) !== 0) return `--url must name its host by DNS name, not IP address: ${values.url}`;
  if (!/^[1-9][0-9]?[sm]$/.test(values.delay as string)) return `--delay must look like 5s or 1m (1-99, s or m), not ${values.delay}`;
  const maxPackageSize = Number(values['max-package-size']);
  if (!Number.isInteger(maxPackageSize) || maxPackageSize < 100 || maxPackageSize > 1048576) {
    return `--max-package-size must be a whole number from 100 to 1048576, not ${values['max-package-size']}`;
  }
  const types = (values.types as string).split(',').map((type) => type.trim().toUpperCase()).filter((type) => type !== '');
  if (types.length === 0) return '--types must name at least one event category';
  return { url: values.url, title: values.title as string, types, delay: values.delay as string, maxPackageSize };
}

async function backfill(api: UpvestApi, config: Config, values: CliValues, io: CliIo, logger: Logger): Promise<number> {
  if (values.since === undefined) return usageError(USAGE, '--since is required', io);
  const since = new Date(values.since);
  if (Number.isNaN(since.getTime())) return usageError(USAGE, `--since is not a date: ${values.since}`, io);
  const pageSize = Number(values['page-size']);
  if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 1000) {
    return usageError(USAGE, `--page-size must be a whole number from 1 to 1000, not ${values['page-size']}`, io);
  }
  return withDatabase(config, async ({ prisma }) => {
    const results = await new Backfill(prisma, api, new ProjectionStore(prisma), logger).run({
      since,
      pageSize,
      restart: values.restart ?? false,
      onProgress: (progress) => io.err(progressLine(progress)),
    });
    if (values.json) {
      io.out(JSON.stringify(results, null, 2));
    } else {
      io.out(
        formatTable(
          ['KIND', 'READ', 'PROJECTED', 'INVALID', 'STATE'],
          results.map((result) => [
            result.kind,
            String(result.offset),
            String(result.projected),
            String(result.invalid),
            result.alreadyComplete ? 'already complete (use --restart to run again)' : 'complete',
          ]),
        ),
      );
    }
    return results.some((result) => result.invalid > 0) ? EXIT.failed : EXIT.ok;
  });
}

function progressLine(progress: BackfillReport): string {
  const total = progress.totalCount === undefined ? '' : ` of ${progress.totalCount}`;
  return `${progress.kind}: read ${progress.offset}${total}, projected ${progress.projected}${progress.done ? ', done' : ''}`;
}
