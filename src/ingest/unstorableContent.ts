import { unstorableTextReason } from '../database/storableText';

/**
 * Nesting deeper than any provider event. It bounds what one event may cost the steps after
 * classification (re-encoding, comparing, Postgres's JSON parser), which recurse over it.
 */
export const MAX_EVENT_DEPTH = 64;

/**
 * Why Postgres could not store or use this JSON value, or undefined when it can: nesting beyond
 * MAX_EVENT_DEPTH, a NUL character (text and jsonb cannot hold it) or a lone UTF-16 surrogate
 * (invalid in json), in any key or string. Checked before a 200 promises that an event will be
 * projected: the worker would otherwise fail on it for good, however often it retried.
 */
export function unstorableReason(value: unknown): string | undefined {
  return problemWithin(value, 1);
}

// Recursive, yet within MAX_EVENT_DEPTH frames however deep the value goes; and it allocates
// nothing, since it runs over every element of every delivery.
function problemWithin(value: unknown, depth: number): string | undefined {
  if (typeof value === 'string') return unstorableTextReason(value);
  if (typeof value !== 'object' || value === null) return undefined;
  if (depth > MAX_EVENT_DEPTH) return `is nested deeper than ${MAX_EVENT_DEPTH} levels`;
  if (Array.isArray(value)) {
    for (const item of value) {
      const problem = problemWithin(item, depth + 1);
      if (problem !== undefined) return problem;
    }
    return undefined;
  }
  // JSON.parse makes plain objects: every enumerable key is the object's own.
  for (const key in value) {
    const problem = unstorableTextReason(key) ?? problemWithin((value as Record<string, unknown>)[key], depth + 1);
    if (problem !== undefined) return problem;
  }
  return undefined;
}
