export const UNDEFINED_TABLE = '42P01';

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
  const meta = (error as { meta?: { driverAdapterError?: { cause?: { originalCode?: unknown } } } })?.meta;
  const code = meta?.driverAdapterError?.cause?.originalCode ?? (error as { code?: unknown })?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}
