import { Config } from '../config/config';
import { Logger } from '../logging/logger';
import { UpvestApi } from '../provider/UpvestApi';
import { OpenResources } from '../wiring/OpenResources';
import { CliValues } from './cliOptions';
import { CliIo } from './CliIo';
import { UsageError } from './errors';

/** What a command's wiring builds on: the configuration, the logger, and what closes what it opens when the command ends. */
export interface CommandSetup {
  config: Config;
  logger: Logger;
  resources: OpenResources;
}

/** A command's arguments, and where it writes. */
export interface CommandInput {
  subcommand: string | undefined;
  /** The positional arguments after the subcommand. */
  args: string[];
  values: CliValues;
  io: CliIo;
}

/** What a command of `npm run cli` gets: its input, and its own operations. */
export interface CommandContext<Operations> extends CommandInput {
  /**
   * The command's operations, built on the first call, by the command's own wiring: call it after
   * checking the arguments, so that bad usage opens no connection.
   */
  operations(): Promise<Operations>;
}

/**
 * One command of `npm run cli`, ready to run; returns the exit code. Bad arguments throw a
 * UsageError (exit 2), a target that is not there a NotFoundError (exit 3), an operation that does
 * not apply an OperationRefusedError (exit 1); any other error is reported as the operation's failure.
 */
export type CliCommand = (input: CommandInput, setup: CommandSetup) => Promise<number>;

/**
 * A command from its wiring (`wire`: builds only the operations the command uses, from the shared
 * infrastructure) and what it does with them (`run`).
 */
export function cliCommand<Operations>(wire: (setup: CommandSetup) => Promise<Operations>, run: (context: CommandContext<Operations>) => Promise<number>): CliCommand {
  return (input, setup) => {
    let built: Promise<Operations> | undefined;
    return run({ ...input, operations: () => (built ??= wire(setup)) });
  };
}

/** The provider's API, or a UsageError naming its credentials when they are not configured. */
export function withCredentials(api: UpvestApi | undefined): UpvestApi {
  if (api === undefined) {
    throw new UsageError('The Upvest API credentials are not configured: set UPVEST_CLIENT_ID, UPVEST_CLIENT_SECRET, UPVEST_SIGNING_KEY(_FILE) and UPVEST_SIGNING_KEY_ID.');
  }
  return api;
}
