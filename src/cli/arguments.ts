import { z } from 'zod';
import { parseInput } from '../operations/operationInputs';
import { UsageError } from './errors';

/** The parsed value, validated like the admin API does; a UsageError naming what is wrong otherwise. */
export function parsedOrUsage<T extends z.ZodType>(schema: T, input: unknown, what: string): z.output<T> {
  const parsed = parseInput(schema, input);
  if ('problem' in parsed) throw new UsageError(`${what}: ${parsed.problem}`);
  return parsed.value;
}

/** The one positional argument a command takes. */
export function singleArgument(args: string[], command: string, what: string): string {
  if (args.length !== 1) throw new UsageError(`${command} needs exactly one ${what}`);
  return args[0];
}
