import { Pool } from 'pg';
import { CONNECTION_TIMEOUT_MS } from './poolSettings';
import type { PrismaClient } from './prismaClient';

/** One pool of Postgres connections per process, shared by Prisma and the statements that bypass it. */
export interface Database {
  /**
   * For the statements on the webhook's answer path: Prisma adds about 0.1 ms of CPU per query
   * (measured: 140 µs against 28 µs for the same query through pg), a tenth of a delivery's budget.
   */
  pool: Pool;
  /**
   * Loaded and created on first use: Prisma's client, runtime and query compiler cost a process
   * megabytes, which an api that only receives deliveries (on the pool) does without.
   */
  readonly prisma: PrismaClient;
  close(): Promise<void>;
}

export function openDatabase(databaseUrl: string, poolSize: number): Database {
  const pool = new Pool({ connectionString: databaseUrl, max: poolSize, connectionTimeoutMillis: CONNECTION_TIMEOUT_MS });
  // An idle connection that the server closes (a restart, a failover) must not take the process down;
  // the next query opens a new one, and a failing query reports its own error.
  pool.on('error', () => undefined);
  let prisma: PrismaClient | undefined;
  return {
    pool,
    get prisma() {
      if (prisma === undefined) {
        // A getter cannot await an import(): require is the way to load Prisma only here.
        const { prismaOnPool } = require('./prismaClient') as typeof import('./prismaClient');
        prisma = prismaOnPool(pool);
      }
      return prisma;
    },
    async close() {
      await prisma?.$disconnect();
      await pool.end();
    },
  };
}
