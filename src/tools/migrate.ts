import { loadConfig } from '../config/config';
import { ConfigError } from '../config/errors';
import { migrateDatabase } from '../database/migrations';
import { createLogger } from '../logging/logger';

/**
 * `npm run migrate` (in the image `node dist/tools/migrate.js`): creates the database if needed and applies pending
 * migrations, then exits. It runs as a Job or compose service beside the api and worker, so it logs JSON lines as they do.
 */
async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config.logLevel);
  try {
    const { created, applied } = await migrateDatabase(config.database.url);
    logger.info(applied.length > 0 ? 'migrations applied' : 'no pending migrations', { databaseCreated: created, applied });
  } catch (error) {
    logger.error('migration failed', { error: (error as Error).message });
    // Not process.exit: it would drop what the log stream still holds.
    process.exitCode = 1;
  }
}

main().catch((error) => {
  // Before there is a logger: an invalid configuration, as the service reports it.
  process.stderr.write(`${error instanceof ConfigError ? error.message : `fatal: ${(error as Error).stack ?? String(error)}`}\n`);
  process.exit(1);
});
