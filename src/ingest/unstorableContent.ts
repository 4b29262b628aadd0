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
  // Iterative: the value may be nested far deeper than the stack goes.
  const pending: Array<[unknown, number]> = [[value, 1]];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const [node, depth] = next;
    if (typeof node === 'string') {
      const problem = stringProblem(node);
      if (problem !== undefined) return problem;
      continue;
    }
    if (typeof node !== 'object' || node === null) continue;
    if (depth > MAX_EVENT_DEPTH) return `is nested deeper than ${MAX_EVENT_DEPTH} levels`;
    if (Array.isArray(node)) {
      for (const item of node) pending.push([item, depth + 1]);
      continue;
    }
    for (const [key, item] of Object.entries(node)) {
      const problem = stringProblem(key);
      if (problem !== undefined) return problem;
      pending.push([item, depth + 1]);
    }
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
