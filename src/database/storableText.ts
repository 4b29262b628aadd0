/**
 * Why Postgres could not store this string, or undefined when it can: a NUL character (text and
 * jsonb cannot hold it) or a lone UTF-16 surrogate (invalid in json).
 */
export function unstorableTextReason(text: string): string | undefined {
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
