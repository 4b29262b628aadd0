import { Components } from '../compose';
import { CliValues } from './cliOptions';
import { CliIo } from './CliIo';
import { UsageError } from './errors';

/** What a command of `npm run cli` gets: its arguments, where to write, and the process's components. */
export interface CommandContext {
  subcommand: string | undefined;
  /** The positional arguments after the subcommand. */
  args: string[];
  values: CliValues;
  io: CliIo;
  /** Built on first use: a command that needs only the provider's API opens no database. */
  components: Components;
  /** The components once the database is migrated, as the service migrates it (MIGRATE_ON_START). */
  migrated(): Promise<Components>;
}

/**
 * One command of `npm run cli`; returns the exit code. Bad arguments throw a UsageError; any other
 * error is reported as the operation's failure.
 */
export type CliCommand = (context: CommandContext) => Promise<number>;

/** What exists only with the provider's API credentials; a UsageError naming them when they are not configured. */
export function withCredentials<T>(built: T | undefined): T {
  if (built === undefined) {
    throw new UsageError('The Upvest API credentials are not configured: set UPVEST_CLIENT_ID, UPVEST_CLIENT_SECRET, UPVEST_SIGNING_KEY(_FILE) and UPVEST_SIGNING_KEY_ID.');
  }
  return built;
}
