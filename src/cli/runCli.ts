import { Config, loadConfig } from '../config/config';
import { ConfigError } from '../config/errors';
import { Logger } from '../logging/logger';
import { NotFoundError, OperationRefusedError } from '../shared/CodedError';
import { OpenResources } from '../wiring/OpenResources';
import { backfillCommand } from './backfillCommand';
import { CliCommand } from './CliCommand';
import { CliValues, CLI_OPTIONS } from './cliOptions';
import { CliIo, EXIT } from './CliIo';
import { parseCommandLine, usageError } from './commandLine';
import { jobsCommand } from './jobsCommand';
import { paymentsCommand } from './paymentsCommand';
import { quarantineCommand } from './quarantineCommand';
import { subscriptionsCommand } from './subscriptionsCommand';
import { UsageError } from './errors';
import { webhooksCommand } from './webhooksCommand';

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

  subscriptions add --url URL [--description TEXT] [--kinds WITHDRAWAL,DIRECT_DEBIT]
                    [--statuses CONFIRMED,CANCELLED] [--json]
      Subscribes URL to the status changes (docs/push.md) from now on; prints the signing secret once.
  subscriptions list [--json]
  subscriptions show <id> [--undelivered] [--limit 10] [--json]
      The subscription and its last deliveries.
  subscriptions update <id> [--url URL] [--description TEXT] [--kinds K,… | --all-kinds]
                       [--statuses S,… | --all-statuses] [--json]
  subscriptions disable <id> | enable <id> | delete <id>
  subscriptions rotate-secret <id> [--overlap 24h] [--json]
      A new secret; the previous one signs too for the overlap (default 24h). Prints it once.
  subscriptions replay <id> (--from-position T.ID | --since RFC3339) [--json]
      Sends every matching change after the position, or since the time, again.
  subscriptions deliveries <id> [--undelivered] [--limit 50] [--json]
      The changes sent to it, newest first: attempts, last response code and error, next attempt.

Reads the same environment variables as the service. webhooks and backfill need the Upvest API
credentials: UPVEST_BASE_URL, UPVEST_CLIENT_ID, UPVEST_CLIENT_SECRET, UPVEST_SIGNING_KEY(_FILE),
UPVEST_SIGNING_KEY_ID. backfill, quarantine, payments and subscriptions use DATABASE_URL; jobs and
quarantine reprocess use DATABASE_URL, REDIS_URL and REDIS_PREFIX.

Exit codes: 0 success, 1 the operation failed (the API, the database or Redis failed, or the job
is not failed), 2 bad usage or configuration, 3 no such webhook, job, quarantined payload,
payment events or subscription.`;

const COMMANDS: Record<string, CliCommand> = {
  webhooks: webhooksCommand,
  backfill: backfillCommand,
  jobs: jobsCommand,
  quarantine: quarantineCommand,
  payments: paymentsCommand,
  subscriptions: subscriptionsCommand,
};

/**
 * `npm run cli`; returns the exit code. Bad usage and configuration exit 2 with the usage; a
 * failed operation (the API, the database or Redis) exits 1 with its error.
 */
export async function runCli(argv: string[], io: CliIo, environment: NodeJS.ProcessEnv, logger: Logger): Promise<number> {
  const parsed = parseCommandLine(USAGE, { args: argv, options: CLI_OPTIONS, allowPositionals: true }, io);
  if (typeof parsed === 'number') return parsed;
  const [name, subcommand, ...args] = parsed.positionals;
  const command = Object.hasOwn(COMMANDS, name ?? '') ? COMMANDS[name] : undefined;
  if (command === undefined) return usageError(USAGE, name === undefined ? 'no command given' : `unknown command: ${parsed.positionals.join(' ')}`, io);
  let config: Config;
  try {
    config = loadConfig(environment);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    io.err(error.message);
    return EXIT.usage;
  }
  // What the command's wiring opens is closed when it ends: the jobs of reprocessed content are queued first.
  const resources = new OpenResources(logger);
  try {
    return await command({ subcommand, args, values: parsed.values as CliValues, io }, { config, logger, resources });
  } catch (error) {
    if (error instanceof UsageError) return usageError(USAGE, error.message, io);
    if (error instanceof NotFoundError) {
      io.err(error.message);
      return EXIT.notFound;
    }
    if (error instanceof OperationRefusedError) {
      io.err(error.message);
      return EXIT.failed;
    }
    io.err(`error: ${(error as Error).message}`);
    return EXIT.failed;
  } finally {
    await resources.closeAll();
  }
}
