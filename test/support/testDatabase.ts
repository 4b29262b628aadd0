import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { Migration, migrateDatabase, readMigrations } from '../../src/database/migrations';

const SERVER_URL = process.env.TEST_DATABASE_SERVER_URL ?? 'postgresql://postgres@127.0.0.1:5432';

export interface TestDatabase {
  url: string;
  drop(): Promise<void>;
}

/** A fresh database of its own for one test file, so that runs never collide; migrated (by default all the way). */
export async function createTestDatabase(migrations: Migration[] = readMigrations()): Promise<TestDatabase> {
  const name = `upvest_webhooks_test_${process.pid}_${randomBytes(4).toString('hex')}`;
  const url = `${SERVER_URL}/${name}`;
  await migrateDatabase(url, migrations);
  return {
    url,
    async drop() {
      const client = new Client({ connectionString: `${SERVER_URL}/postgres` });
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}
