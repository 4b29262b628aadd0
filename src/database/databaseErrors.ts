export const UNDEFINED_TABLE = '42P01';

/**
 * A database error that retrying cannot fix: bad data (SQLSTATE class 22) or a violated
 * constraint (class 23). Everything else, above all an unreachable server, is treated as
 * transient, so that the job is retried rather than dropped.
 */
export function isPermanentDatabaseError(error: unknown): boolean {
  const sqlState = sqlStateOf(error);
  return sqlState !== undefined && (sqlState.startsWith('22') || sqlState.startsWith('23'));
}

export function sqlStateOf(error: unknown): string | undefined {
  const meta = (error as { meta?: { driverAdapterError?: { cause?: { originalCode?: unknown } } } })?.meta;
  const code = meta?.driverAdapterError?.cause?.originalCode ?? (error as { code?: unknown })?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}
