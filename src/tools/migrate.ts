import { loadConfig } from '../config/config';
import { ConfigError } from '../config/errors';
import { migrateDatabase } from '../database/migrations';

/** `npm run migrate`: creates the database if needed and applies pending migrations, then exits. */
async function main(): Promise<void> {
  const { database } = loadConfig();
  const { created, applied } = await migrateDatabase(database.url);
  if (created) console.log('database created');
  console.log(applied.length > 0 ? `applied: ${applied.join(', ')}` : 'no pending migrations');
}

main().catch((error) => {
  console.error(error instanceof ConfigError ? error.message : `migration failed: ${(error as Error).message}`);
  process.exit(1);
});
