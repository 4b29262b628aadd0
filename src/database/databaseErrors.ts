export const UNDEFINED_TABLE = '42P01';

/** What Prisma's driver adapter keeps of the error the driver raised. */
interface DriverAdapterCause {
  originalCode?: unknown;
  originalMessage?: unknown;
}

/**
 * A database error that retrying the same content cannot fix: bad data (SQLSTATE class 22), a
 * violated constraint (class 23), or content beyond a limit of the server (class 54, e.g. JSON
 * nested too deep for its parser). Everything else, above all an unreachable server, is treated
 * as transient, so that the work is retried rather than dropped.
 */
export function isPermanentDatabaseError(error: unknown): boolean {
  const sqlState = sqlStateOf(error);
  return sqlState !== undefined && ['22', '23', '54'].includes(sqlState.slice(0, 2));
}

export function sqlStateOf(error: unknown): string | undefined {
  const code = driverAdapterCauseOf(error)?.originalCode ?? (error as { code?: unknown })?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

/**
 * Why a database operation failed, in one line, for job failure reasons, the inbox's last_error,
 * readiness and logs: the server's own words (with the SQLSTATE, where Prisma relays them) or the
 * connection error. Prisma wraps them in a text of several lines that begins with
 * "Invalid `prisma.$queryRaw()` invocation:", which tells an operator nothing. Row content
 * (Postgres's DETAIL) is left out.
 */
export function databaseFailureCause(error: unknown): string {
  const serverMessage = driverAdapterCauseOf(error)?.originalMessage;
  if (typeof serverMessage !== 'string') return unwrappedMessage(error);
  const sqlState = sqlStateOf(error);
  return sqlState === undefined ? serverMessage : `${serverMessage} (SQLSTATE ${sqlState})`;
}

function driverAdapterCauseOf(error: unknown): DriverAdapterCause | undefined {
  return (error as { meta?: { driverAdapterError?: { cause?: DriverAdapterCause } } })?.meta?.driverAdapterError?.cause;
}

// Prisma's text ends with its rendering of the cause, e.g. "Can't reach database server at db:5432",
// in a raw query as "Raw query failed. Code: `N/A`. Message: `Can't reach database server at db:5432`".
function unwrappedMessage(error: unknown): string {
  const lines = messageOf(error)
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '');
  if (!/^Invalid `.*` invocation/.test(lines[0] ?? '')) return lines.join(' ');
  const last = lines[lines.length - 1];
  return /^Raw query failed\. Code: `.*`\. Message: `(.*)`$/.exec(last)?.[1] ?? last;
}

// Duck-typed: errors of Node's core can come from another realm (jest's sandbox), where instanceof Error fails.
function messageOf(error: unknown): string {
  const { message, errors } = (error ?? {}) as { message?: unknown; errors?: unknown };
  // Node reports a connection refused on every address of a host as an AggregateError without a message.
  if (message === '' && Array.isArray(errors)) return errors.map(messageOf).join('; ');
  return typeof message === 'string' ? message : String(error);
}
