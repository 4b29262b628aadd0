import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Client } from 'pg';
import request from 'supertest';
import { applyMigrations, MIGRATIONS_DIR, readMigrations } from '../../src/database/migrations';
import { createTestDatabase, TestDatabase } from '../support/testDatabase';
import { startTestService } from '../support/testService';

let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase();
});

afterAll(async () => {
  await database.drop();
});

async function appliedMigrations(url: string): Promise<Array<{ migration_name: string; checksum: string; finished_at: Date | null }>> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query('SELECT migration_name, checksum, finished_at FROM "_prisma_migrations" ORDER BY migration_name')).rows;
  } finally {
    await client.end();
  }
}

describe('migrations', () => {
  it('records every applied migration the way prisma migrate deploy expects', async () => {
    const rows = await appliedMigrations(database.url);

    expect(rows.map((row) => row.migration_name)).toEqual(readMigrations().map((migration) => migration.name));
    for (const row of rows) {
      const sql = readFileSync(path.join(MIGRATIONS_DIR, row.migration_name, 'migration.sql'));
      expect(row.checksum).toBe(createHash('sha256').update(sql).digest('hex'));
      expect(row.finished_at).not.toBeNull();
    }
  });

  it('applies nothing the second time', async () => {
    expect(await applyMigrations(database.url)).toEqual([]);
  });

  it('reports not ready while a migration is pending', async () => {
    const unmigrated = `${database.url}_empty`;
    const client = new Client({ connectionString: database.url });
    await client.connect();
    const name = new URL(unmigrated).pathname.slice(1);
    await client.query(`CREATE DATABASE "${name}"`);
    await client.end();
    const harness = await startTestService({ DATABASE_URL: unmigrated, MIGRATE_ON_START: 'false' });
    try {
      const response = await request(harness.baseUrl).get('/readyz');

      expect(response.status).toBe(503);
      expect(response.body.checks.postgres).toMatch(/migrations not applied/);
    } finally {
      await harness.stop();
      const admin = new Client({ connectionString: database.url });
      await admin.connect();
      await admin.query(`DROP DATABASE "${name}" WITH (FORCE)`);
      await admin.end();
    }
  });
});
