import { PrismaPg } from '@prisma/adapter-pg';
import { Pool } from 'pg';
import { Prisma, PrismaClient } from '../generated/prisma/client';
import { CONNECTION_TIMEOUT_MS } from './poolSettings';

export type { PrismaClient };
export { Prisma };

/** Prisma on an existing pool of node-postgres: no native query engine is needed at run time. */
export function prismaOnPool(pool: Pool): PrismaClient {
  return new PrismaClient({ adapter: new PrismaPg(pool) });
}

/** Prisma with a pool of its own, for tests. */
export function createPrismaClient(databaseUrl: string, poolSize: number): PrismaClient {
  return new PrismaClient({
    adapter: new PrismaPg({ connectionString: databaseUrl, max: poolSize, connectionTimeoutMillis: CONNECTION_TIMEOUT_MS }),
  });
}
