import { parseArgs, ParseArgsConfig } from 'node:util';

/**
 * Parses a command's arguments. Returns them, or the exit code when the command should stop here:
 * 0 after printing the usage for --help (the config must declare a `help` flag), 2 for bad usage.
 */
export function parseCommandLine<T extends ParseArgsConfig>(usage: string, config: T): ReturnType<typeof parseArgs<T>> | number {
  let parsed: ReturnType<typeof parseArgs<T>>;
  try {
    parsed = parseArgs(config);
  } catch (error) {
    return usageError(usage, (error as Error).message);
  }
  if ((parsed.values as { help?: boolean }).help) {
    console.log(usage);
    return 0;
  }
  return parsed;
}

/** Prints what was wrong and the usage; returns the exit code for bad usage. */
export function usageError(usage: string, message: string): number {
  console.error(`${message}\n\n${usage}`);
  return 2;
}
