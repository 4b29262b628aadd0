import { Pool } from 'pg';
import { databaseFailureCause, sqlStateOf, UNDEFINED_TABLE } from './databaseErrors';
import { DatabaseUnavailableError, MigrationsPendingError } from './errors';
import { appliedMigrationNames, pendingMigrationNames, readMigrations } from './migrations';

/**
 * The database's readiness check: resolves when Postgres answers and every migration this version
 * ships with is applied; rejects with the reason otherwise. `onError`: Postgres failed.
 */
export function databaseReadiness(pool: Pool, onError: () => void): () => Promise<void> {
  const migrations = readMigrations();
  return async () => {
    const applied = await appliedMigrationNames(pool).catch((error) => {
      if (sqlStateOf(error) === UNDEFINED_TABLE) return []; // no _prisma_migrations yet: nothing applied
      onError();
      throw new DatabaseUnavailableError(databaseFailureCause(error), error);
    });
    const pending = pendingMigrationNames(migrations, applied);
    if (pending.length > 0) throw new MigrationsPendingError(pending);
  };
}
