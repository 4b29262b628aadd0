import { createHash, randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Client } from 'pg';
import { MigrationFailedError } from './errors';

/** The folder `prisma migrate deploy` reads too; resolved the same from src/ (tests) and dist/ (build). */
export const MIGRATIONS_DIR = path.resolve(__dirname, '../../prisma/migrations');

// The lock id `prisma migrate` takes, so that this runner and a `prisma migrate deploy` never overlap.
const PRISMA_MIGRATE_LOCK_ID = 72707369;

export interface Migration {
  name: string;
  sql: string;
  checksum: string;
}

export function readMigrations(directory = MIGRATIONS_DIR): Migration[] {
  return readdirSync(directory, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort()
    .map((name) => {
      const sql = readFileSync(path.join(directory, name, 'migration.sql'), 'utf8');
      return { name, sql, checksum: createHash('sha256').update(sql).digest('hex') };
    });
}

/** Creates the database named in the URL when it does not exist yet (Prisma's CLI would, but cannot run here). */
async function ensureDatabaseExists(databaseUrl: string): Promise<boolean> {
  const target = new URL(databaseUrl);
  const name = decodeURIComponent(target.pathname.slice(1));
  const maintenance = new URL(databaseUrl);
  maintenance.pathname = '/postgres';
  const client = new Client({ connectionString: maintenance.toString() });
  await client.connect();
  try {
    const existing = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (existing.rowCount !== 0) return false;
    try {
      await client.query(`CREATE DATABASE ${quoteIdentifier(name)}`);
      return true;
    } catch (error) {
      // Another replica created it between our check and our CREATE.
      if ((error as { code?: string }).code === '42P04') return false;
      throw error;
    }
  } finally {
    await client.end();
  }
}

/**
 * Applies pending migrations in name order, each in its own transaction, and records them in
 * `_prisma_migrations` exactly as Prisma does, so that `prisma migrate deploy` sees them as applied.
 */
export async function applyMigrations(databaseUrl: string, migrations = readMigrations()): Promise<string[]> {
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [PRISMA_MIGRATE_LOCK_ID]);
    await client.query(`CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
      "id" VARCHAR(36) PRIMARY KEY NOT NULL,
      "checksum" VARCHAR(64) NOT NULL,
      "finished_at" TIMESTAMPTZ,
      "migration_name" VARCHAR(255) NOT NULL,
      "logs" TEXT,
      "rolled_back_at" TIMESTAMPTZ,
      "started_at" TIMESTAMPTZ NOT NULL DEFAULT now(),
      "applied_steps_count" INTEGER NOT NULL DEFAULT 0
    )`);
    const pendingNames = new Set(pendingMigrationNames(migrations, await appliedMigrationNames(client)));
    const pending = migrations.filter((migration) => pendingNames.has(migration.name));
    for (const migration of pending) {
      await client.query('BEGIN');
      try {
        await client.query(migration.sql);
        await client.query(
          `INSERT INTO "_prisma_migrations" (id, checksum, finished_at, migration_name, started_at, applied_steps_count)
           VALUES ($1, $2, now(), $3, now(), 1)`,
          [randomUUID(), migration.checksum, migration.name],
        );
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK');
        throw new MigrationFailedError(migration.name, error as Error);
      }
    }
    return pending.map((migration) => migration.name);
  } finally {
    await client.end();
  }
}

/** What `npm start` and `npm run migrate` do: create the database if needed, then apply what is pending. */
export async function migrateDatabase(databaseUrl: string, migrations = readMigrations()): Promise<{ created: boolean; applied: string[] }> {
  const created = await ensureDatabaseExists(databaseUrl);
  return { created, applied: await applyMigrations(databaseUrl, migrations) };
}

/** Names of the given migrations that are not among the applied ones. */
export function pendingMigrationNames(migrations: Migration[], appliedNames: Iterable<string>): string[] {
  const applied = new Set(appliedNames);
  return migrations.map((migration) => migration.name).filter((name) => !applied.has(name));
}

/** The migrations recorded as applied; `database` is a pg Client or Pool. */
export async function appliedMigrationNames(database: Pick<Client, 'query'>): Promise<string[]> {
  const result = await database.query<{ migration_name: string }>(
    'SELECT migration_name FROM "_prisma_migrations" WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL',
  );
  return result.rows.map((row) => row.migration_name);
}

function quoteIdentifier(identifier: string): string {
  return `"${identifier.replace(/"/g, '""')}"`;
}
