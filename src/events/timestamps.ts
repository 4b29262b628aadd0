const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/;

/**
 * Rewrites an RFC 3339 timestamp as UTC with exactly six fractional digits
 * (`2021-07-21T14:10:00.000000Z`). Postgres keeps microseconds, so this is the precision
 * at which events are ordered; and because the form is fixed, comparing two canonical
 * timestamps as strings compares them in time. Returns undefined for anything else.
 */
export function canonicalTimestamp(value: string): string | undefined {
  const match = RFC3339.exec(value);
  if (match === null) return undefined;
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map(Number);
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month) || hour > 23 || minute > 59 || second > 59) {
    return undefined;
  }
  const offsetMinutes = match[8] !== undefined ? 0 : (match[9] === '-' ? -1 : 1) * (Number(match[10]) * 60 + Number(match[11]));
  const utc = Date.UTC(year, month - 1, day, hour, minute, second) - offsetMinutes * 60_000;
  const microseconds = (match[7] ?? '').padEnd(6, '0').slice(0, 6);
  return `${new Date(utc).toISOString().slice(0, 19)}.${microseconds}Z`;
}

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}
