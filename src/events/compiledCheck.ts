import { z } from 'zod';

/** Whether a value passes a schema. */
export type Check = (value: unknown) => boolean;

/**
 * Compiles a zod schema into a check that answers what `schema.safeParse(value).success` answers,
 * without building zod's copy of the value: zod parses an object into a new one, which for every
 * event of every delivery costs time and garbage on the webhook's answer path. The schema stays
 * the one definition; the check is derived from it when the module loads. Only what the event
 * schemas use is compiled: loose objects (whose output equals their input), strings with regex,
 * length and refine checks, enums, optionals and unknown. Anything else throws here, at load, so
 * that a new kind of schema cannot be checked wrongly without notice.
 */
export function compileCheck(schema: z.ZodType): Check {
  const def = schema.def as z.core.$ZodTypeDef & Record<string, unknown>;
  switch (def.type) {
    case 'object':
      return objectCheck(def as unknown as z.core.$ZodObjectDef);
    case 'string':
      return stringCheck(def as z.core.$ZodStringDef);
    case 'enum': {
      const values = new Set(Object.values((def as unknown as z.core.$ZodEnumDef).entries));
      return (value) => values.has(value as string);
    }
    case 'optional': {
      const inner = compileCheck((def as unknown as z.core.$ZodOptionalDef).innerType as unknown as z.ZodType);
      return (value) => value === undefined || inner(value);
    }
    case 'unknown':
      return () => true;
    default:
      throw new Error(`compileCheck: a ${def.type} schema is not compiled; check it with zod`);
  }
}

function objectCheck(def: z.core.$ZodObjectDef): Check {
  // A strict or stripping object answers something other than its input: only loose ones compile.
  if (def.catchall === undefined || (def.catchall as unknown as z.ZodType).def.type !== 'unknown') {
    throw new Error('compileCheck: only loose objects (z.looseObject) are compiled, whose output is their input');
  }
  const fields = Object.entries(def.shape).map(([key, field]) => [key, compileCheck(field as unknown as z.ZodType)] as const);
  return (value) => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
    const record = value as Record<string, unknown>;
    for (const [key, check] of fields) if (!check(record[key])) return false;
    return true;
  };
}

function stringCheck(def: z.core.$ZodStringDef): Check {
  // A string format (z.email(), z.uuid(), …) is a check of its own kind, not one of def.checks.
  if ('format' in def) throw new Error(`compileCheck: the string format ${String(def.format)} is not compiled; use a regex`);
  const checks = (def.checks ?? []).map((check) => stringCheckOf(check._zod.def as z.core.$ZodCheckDef & Record<string, unknown>));
  return (value) => typeof value === 'string' && checks.every((check) => check(value));
}

function stringCheckOf(def: z.core.$ZodCheckDef & Record<string, unknown>): (value: string) => boolean {
  if (def.check === 'string_format' && def.format === 'regex') {
    const pattern = def.pattern as RegExp;
    return (value) => {
      pattern.lastIndex = 0; // as zod does, for a pattern with the g or y flag
      return pattern.test(value);
    };
  }
  if (def.check === 'max_length') return (value) => value.length <= (def.maximum as number);
  if (def.check === 'min_length') return (value) => value.length >= (def.minimum as number);
  if (def.check === 'custom') return (value) => Boolean((def.fn as (value: string) => unknown)(value));
  throw new Error(`compileCheck: the string check ${String(def.check)} is not compiled; check it with zod`);
}
