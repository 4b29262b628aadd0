import { parseArgs, ParseArgsConfig } from 'node:util';

/** Where usage and usage errors are printed; the console unless a caller captures them. */
export interface UsageOutput {
  out(text: string): void;
  err(text: string): void;
}

const CONSOLE: UsageOutput = { out: (text) => console.log(text), err: (text) => console.error(text) };

/**
 * Parses a command's arguments. Returns them, or the exit code when the command should stop here:
 * 0 after printing the usage for --help (the config must declare a `help` flag), 2 for bad usage.
 */
export function parseCommandLine<T extends ParseArgsConfig>(
  usage: string,
  config: T,
  output: UsageOutput = CONSOLE,
): ReturnType<typeof parseArgs<T>> | number {
  let parsed: ReturnType<typeof parseArgs<T>>;
  try {
    parsed = parseArgs(config);
  } catch (error) {
    return usageError(usage, (error as Error).message, output);
  }
  if ((parsed.values as { help?: boolean }).help) {
    output.out(usage);
    return 0;
  }
  return parsed;
}

/** Prints what was wrong and the usage; returns the exit code for bad usage. */
export function usageError(usage: string, message: string, output: UsageOutput = CONSOLE): number {
  output.err(`${message}\n\n${usage}`);
  return 2;
}
