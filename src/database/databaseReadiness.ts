import { Pool } from 'pg';
import { ReadinessCheck } from '../http/healthRoutes';
import { databaseFailureCause, sqlStateOf, UNDEFINED_TABLE } from './databaseErrors';
import { appliedMigrationNames, pendingMigrationNames, readMigrations } from './migrations';

/** Ready when Postgres answers and every migration this version ships with is applied. `onError`: Postgres failed. */
export function databaseReadiness(pool: Pool, onError: () => void): ReadinessCheck {
  const migrations = readMigrations();
  return {
    name: 'postgres',
    async check() {
      const applied = await appliedMigrationNames(pool).catch((error) => {
        if (sqlStateOf(error) === UNDEFINED_TABLE) return []; // no _prisma_migrations yet: nothing applied
        onError();
        throw new Error(databaseFailureCause(error), { cause: error });
      });
      const pending = pendingMigrationNames(migrations, applied);
      if (pending.length > 0) throw new Error(`migrations not applied: ${pending.join(', ')}`);
    },
  };
}
