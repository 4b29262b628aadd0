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
  if (typeof value === 'string') return stringProblem(value);
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
    const problem = stringProblem(key) ?? problemWithin((value as Record<string, unknown>)[key], depth + 1);
    if (problem !== undefined) return problem;
  }
  return undefined;
}

function stringProblem(text: string): string | undefined {
  if (text.includes('\u0000')) return 'holds a NUL character (\\u0000), which Postgres cannot store';
  if (!(text as WellFormedString).isWellFormed()) return 'holds a lone UTF-16 surrogate, which Postgres cannot store';
  return undefined;
}

/** Text that a Postgres text column takes: no NUL, no lone surrogate. For reasons and labels, not for content. */
export function storableText(text: string): string {
  return (text.replace(/\u0000/g, '\\u0000') as WellFormedString).toWellFormed();
}

// ES2024 string methods, in Node since 20; the project's TypeScript lib is ES2022.
type WellFormedString = string & { isWellFormed(): boolean; toWellFormed(): string };
