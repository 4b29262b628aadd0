/** A copy of `record` without the named keys (to build events that lack a required field). */
export function without<T extends Record<string, unknown>>(record: T, ...keys: string[]): Record<string, unknown> {
  return Object.fromEntries(Object.entries(record).filter(([key]) => !keys.includes(key)));
}

/** An error shaped like the one Prisma's pg driver adapter throws, carrying the SQLSTATE the server sent. */
export function prismaDatabaseError(sqlState: string, message = `database error ${sqlState}`): Error {
  return Object.assign(new Error(message), { meta: { driverAdapterError: { cause: { originalCode: sqlState } } } });
}
