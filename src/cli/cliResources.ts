import { Queue } from 'bullmq';
import { Config } from '../config/config';
import { migrateDatabase } from '../database/migrations';
import { Database, openDatabase } from '../database/prismaClient';
import { InboxCommitter } from '../inbox/InboxCommitter';
import { InboxStore } from '../inbox/InboxStore';
import { BatchIngestor } from '../ingest/BatchIngestor';
import { Logger } from '../logging/logger';
import { defaultJobOptions, EVENTS_QUEUE_NAME } from '../queue/jobs';
import { ProjectionJobs } from '../queue/ProjectionJobs';
import { createRedisConnection } from '../queue/redisConnection';
import { withTimeout } from '../shared/withTimeout';

/** Runs `use` with the database, migrating first like the service does (MIGRATE_ON_START). */
export async function withDatabase<T>(config: Config, use: (database: Database) => Promise<T>): Promise<T> {
  if (config.database.migrateOnStart) await migrateDatabase(config.database.url);
  const database = openDatabase(config.database.url, 2);
  try {
    return await use(database);
  } finally {
    await database.close();
  }
}

/** Runs `use` with the events queue on the configured Redis and prefix, with the service's job options. */
async function withEventsQueue<T>(config: Config, use: (jobs: ProjectionJobs) => Promise<T>): Promise<T> {
  const connection = createRedisConnection(config.redis.url, 'producer');
  connection.on('error', () => undefined); // reported by the command that fails
  const queue = new Queue(EVENTS_QUEUE_NAME, { connection, prefix: config.redis.prefix, defaultJobOptions: defaultJobOptions(config.worker.attempts) });
  queue.on('error', () => undefined);
  try {
    await withTimeout(queue.waitUntilReady(), 5000, () => new Error(`Redis not reachable at ${redactedUrl(config.redis.url)}`));
    return await use(new ProjectionJobs(queue, connection));
  } finally {
    await queue.close().catch(() => undefined);
    connection.disconnect();
  }
}

export interface Operations {
  database: Database;
  /** The events queue (jobs.queue). */
  jobs: ProjectionJobs;
  inbox: InboxStore;
}

/** Runs `use` with the database and the events queue: what the operator commands work on. */
export async function withOperations<T>(config: Config, use: (operations: Operations) => Promise<T>): Promise<T> {
  return withDatabase(config, (database) => withEventsQueue(config, (jobs) => use({ database, jobs, inbox: new InboxStore(database.pool) })));
}

/** Runs `use` with an ingestor that receives content exactly like the webhook endpoint; its jobs are queued before it returns. */
export async function withIngest<T>(config: Config, logger: Logger, use: (operations: Operations & { ingestor: BatchIngestor }) => Promise<T>): Promise<T> {
  return withOperations(config, async (operations) => {
    const committer = new InboxCommitter(operations.inbox, operations.jobs, { logger });
    const ingestor = new BatchIngestor(committer, operations.inbox, { timeoutMs: config.ingest.timeoutMs });
    try {
      return await use({ ...operations, ingestor });
    } finally {
      await committer.drain();
    }
  });
}

/** The URL without its password, for messages. */
function redactedUrl(url: string): string {
  const parsed = new URL(url);
  if (parsed.password !== '') parsed.password = '***';
  return parsed.toString();
}
