import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from '../generated/prisma/client';

export type { PrismaClient };

/** Prisma through node-postgres: no native query engine is needed at run time. */
export function createPrismaClient(databaseUrl: string, poolSize: number): PrismaClient {
  return new PrismaClient({
    adapter: new PrismaPg({ connectionString: databaseUrl, max: poolSize, connectionTimeoutMillis: 5000 }),
  });
}
