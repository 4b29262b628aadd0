import { Queue } from 'bullmq';
import { Config } from '../config/config';
import { migrateDatabase } from '../database/migrations';
import { createPrismaClient, PrismaClient } from '../database/prismaClient';
import { BatchIngestor } from '../ingest/BatchIngestor';
import { defaultJobOptions, EVENTS_QUEUE_NAME } from '../queue/jobs';
import { createRedisConnection } from '../queue/redisConnection';
import { withTimeout } from '../shared/withTimeout';

/** Runs `use` with a database client, migrating first like the service does (MIGRATE_ON_START). */
export async function withDatabase<T>(config: Config, use: (prisma: PrismaClient) => Promise<T>): Promise<T> {
  if (config.database.migrateOnStart) await migrateDatabase(config.database.url);
  const prisma = createPrismaClient(config.database.url, 2);
  try {
    return await use(prisma);
  } finally {
    await prisma.$disconnect();
  }
}

export interface EventsQueue {
  queue: Queue;
  /** Queues content exactly like the webhook endpoint does. */
  ingestor: BatchIngestor;
}

/** Runs `use` with the events queue on the configured Redis and prefix, with the service's job options. */
export async function withEventsQueue<T>(config: Config, use: (events: EventsQueue) => Promise<T>): Promise<T> {
  const connection = createRedisConnection(config.redis.url, 'producer');
  connection.on('error', () => undefined); // reported by the command that fails
  const queue = new Queue(EVENTS_QUEUE_NAME, { connection, prefix: config.redis.prefix, defaultJobOptions: defaultJobOptions(config.worker.attempts) });
  queue.on('error', () => undefined);
  try {
    await withTimeout(queue.waitUntilReady(), 5000, () => new Error(`Redis not reachable at ${redactedUrl(config.redis.url)}`));
    const ingestor = new BatchIngestor(queue, connection, {
      prefix: config.redis.prefix,
      dedupTtlSeconds: config.ingest.dedupTtlSeconds,
      timeoutMs: config.ingest.timeoutMs,
    });
    return await use({ queue, ingestor });
  } finally {
    await queue.close().catch(() => undefined);
    connection.disconnect();
  }
}

/** The URL without its password, for messages. */
function redactedUrl(url: string): string {
  const parsed = new URL(url);
  if (parsed.password !== '') parsed.password = '***';
  return parsed.toString();
}
