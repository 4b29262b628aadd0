import IORedis from 'ioredis';
import { Client } from 'pg';
import { redisKeyPattern } from '../src/queue/redisKeys';

/**
 * The database and the Redis key prefix that belong to one bench run. Both are named after the
 * bench's pid, so the run never touches anyone else's data in the shared Postgres and Redis,
 * and both are removed at the end. The service creates the database itself (MIGRATE_ON_START).
 */
export interface BenchResources {
  databaseUrl: string;
  redisUrl: string;
  redisPrefix: string;
}

export function benchResources(pid = process.pid): BenchResources {
  return {
    databaseUrl: `postgresql://postgres@127.0.0.1:5432/upvest_webhooks_bench_${pid}`,
    redisUrl: 'redis://127.0.0.1:6379',
    redisPrefix: `bench-${pid}`,
  };
}

/** Drops the run's database; WITH (FORCE) ends connections a killed service may have left behind. */
export async function dropDatabase(databaseUrl: string): Promise<void> {
  const name = decodeURIComponent(new URL(databaseUrl).pathname.slice(1));
  const maintenance = new URL(databaseUrl);
  maintenance.pathname = '/postgres';
  const client = new Client({ connectionString: maintenance.toString() });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS "${name.replace(/"/g, '""')}" WITH (FORCE)`);
  } finally {
    await client.end();
  }
}

/** Deletes every key of the prefix (jobs and queue bookkeeping); SCAN, so Redis is never blocked for long. */
export async function deleteRedisKeys(redisUrl: string, prefix: string): Promise<number> {
  const redis = new IORedis(redisUrl, { maxRetriesPerRequest: 1, lazyConnect: true });
  await redis.connect();
  let deleted = 0;
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', redisKeyPattern(prefix), 'COUNT', 1000);
      if (keys.length > 0) deleted += await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
  return deleted;
}
