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
  // Field by field, without intermediate arrays: this runs several times per event on the webhook's answer path.
  const [year, month, day, hour, minute, second] = [+match[1], +match[2], +match[3], +match[4], +match[5], +match[6]];
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month) || hour > 23 || minute > 59 || second > 59) {
    return undefined;
  }
  const fraction = match[7] ?? '';
  const microseconds = fraction.length >= 6 ? fraction.slice(0, 6) : fraction.padEnd(6, '0');
  const utc = match[8] !== undefined ? `${match[1]}-${match[2]}-${match[3]}T${match[4]}:${match[5]}:${match[6]}` : utcOf(match);
  // Postgres has no year 0 (1 BC comes before 1 AD): it would refuse the row, so it is no timestamp here either.
  if (utc === undefined || utc.startsWith('0000-')) return undefined;
  return `${utc}.${microseconds}Z`;
}

/** The UTC date and time, to the second, of a timestamp with an offset; undefined for an impossible offset. */
function utcOf(match: RegExpExecArray): string | undefined {
  const [offsetHours, offsetMinutes] = [+match[10], +match[11]];
  if (offsetHours > 23 || offsetMinutes > 59) return undefined;
  const offsetMs = (match[9] === '-' ? -1 : 1) * (offsetHours * 60 + offsetMinutes) * 60_000;
  const local = utcMilliseconds(+match[1], +match[2], +match[3], +match[4], +match[5], +match[6]);
  const iso = new Date(local - offsetMs).toISOString();
  // Past year 9999 (or before 0000) toISOString switches to a six-digit, signed year.
  return iso.length === 24 ? iso.slice(0, 19) : undefined;
}

// Date.UTC would read the years 0-99 as 1900-1999; setUTCFullYear takes them as they are.
function utcMilliseconds(year: number, month: number, day: number, hour = 0, minute = 0, second = 0): number {
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, second, 0);
  return date.getTime();
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function daysInMonth(year: number, month: number): number {
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  return month === 2 && leap ? 29 : DAYS_IN_MONTH[month - 1];
}

/**
 * SQL that prints a timestamptz column in the canonical form of canonicalTimestamp().
 * `column` goes into the SQL as it is: a constant column name, never input.
 */
export function canonicalTimestampSql(column: string): string {
  return `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;
}
