const RFC3339 = /^(\d{4}-\d{2}-\d{2})[Tt ](\d{2}:\d{2}:\d{2})(?:\.(\d+))?([Zz]|[+-]\d{2}:\d{2})$/;

/**
 * Rewrites an RFC 3339 timestamp as UTC with exactly six fractional digits
 * (`2021-07-21T14:10:00.000000Z`). Postgres keeps microseconds, so this is the precision
 * at which events are ordered; and because the form is fixed, comparing two canonical
 * timestamps as strings compares them in time. Returns undefined for anything else.
 */
export function canonicalTimestamp(value: string): string | undefined {
  const match = RFC3339.exec(value);
  if (match === null) return undefined;
  const [, date, time, fraction = '', offset] = match;
  if (!isCalendarDate(date)) return undefined;
  const wholeSeconds = Date.parse(`${date}T${time}${offset.toUpperCase()}`);
  if (Number.isNaN(wholeSeconds)) return undefined;
  const iso = new Date(wholeSeconds).toISOString();
  const microseconds = fraction.padEnd(6, '0').slice(0, 6);
  return `${iso.slice(0, 19)}.${microseconds}Z`;
}

// Date.parse rolls 2021-02-30 over to March instead of rejecting it.
function isCalendarDate(date: string): boolean {
  const midnight = Date.parse(`${date}T00:00:00Z`);
  return !Number.isNaN(midnight) && new Date(midnight).toISOString().startsWith(date);
}
