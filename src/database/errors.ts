import { CodedError } from '../shared/CodedError';

// The errors of the database module, each with a stable `code`.

/** Postgres did not answer the readiness check; the message is its one-line cause (databaseFailureCause). */
export class DatabaseUnavailableError extends CodedError {
  readonly code = 'database_unavailable';

  constructor(message: string, cause: unknown) {
    super(message, { cause });
  }
}

/** The database lacks migrations that this version ships with: not ready until `npm run migrate` (or MIGRATE_ON_START) applied them. */
export class MigrationsPendingError extends CodedError {
  readonly code = 'migrations_pending';

  constructor(readonly pending: string[]) {
    super(`migrations not applied: ${pending.join(', ')}`);
  }
}

/** A migration's SQL failed; its transaction was rolled back and nothing of it applied. */
export class MigrationFailedError extends CodedError {
  readonly code = 'migration_failed';

  constructor(migration: string, cause: Error) {
    super(`migration ${migration} failed: ${cause.message}`, { cause });
  }
}
