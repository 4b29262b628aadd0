import { parseArgs, ParseArgsConfig } from 'node:util';
import { CliIo, EXIT } from './CliIo';

/** Where usage and usage errors go unless a caller captures them. */
const CONSOLE: CliIo = { out: (text) => console.log(text), err: (text) => console.error(text) };

/**
 * Parses the arguments of a command-line tool (the CLI, `npm run keys`, `npm run send`). Returns them, or the exit code when the command should stop here:
 * 0 after printing the usage for --help (the config must declare a `help` flag), 2 for bad usage.
 */
export function parseCommandLine<T extends ParseArgsConfig>(
  usage: string,
  config: T,
  output: CliIo = CONSOLE,
): ReturnType<typeof parseArgs<T>> | number {
  let parsed: ReturnType<typeof parseArgs<T>>;
  try {
    parsed = parseArgs(config);
  } catch (error) {
    return usageError(usage, (error as Error).message, output);
  }
  if ((parsed.values as { help?: boolean }).help) {
    output.out(usage);
    return EXIT.ok;
  }
  return parsed;
}

/** Prints what was wrong and the usage; returns the exit code for bad usage. */
export function usageError(usage: string, message: string, output: CliIo = CONSOLE): number {
  output.err(`${message}\n\n${usage}`);
  return EXIT.usage;
}
