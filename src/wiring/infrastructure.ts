import { JobsOptions, Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { Config } from '../config/config';
import { migrateDatabase } from '../database/migrations';
import { Database, openDatabase as openPool } from '../database/Database';
import { Logger } from '../logging/logger';
import { DependencyErrors } from '../metrics/DependencyErrors';
import { UpvestApi } from '../provider/UpvestApi';
import { UpvestApiClient } from '../provider/UpvestApiClient';
import { ProjectionJobs } from '../queue/ProjectionJobs';
import { createRedisConnection } from '../queue/redisConnection';
import { EVENTS_QUEUE_NAME, RECONCILIATION_QUEUE_NAME } from '../queue/redisKeys';
import { projectionJobOptions, RetryPolicy } from '../queue/retryPolicy';
import { OpenResources } from './OpenResources';

/**
 * The shared infrastructure every entry point builds what it uses from: the Postgres pool (with
 * Prisma on it), Redis connections, the queues and the provider's API client. Each function opens
 * one thing and registers it with the process's OpenResources, which closes it.
 */

/** An operator's command holds a couple of connections, not a service's pool. */
export const COMMAND_POOL_SIZE = 2;

/** How long an operator's command waits for Redis before it says that Redis is not reachable. */
const COMMAND_REDIS_WAIT_MS = 5000;

/** Creates the database if needed and applies pending migrations, when MIGRATE_ON_START says so. */
export async function migrateIfConfigured(config: Config['database'], logger: Logger): Promise<void> {
  if (!config.migrateOnStart) return;
  const { created, applied } = await migrateDatabase(config.url);
  if (created || applied.length > 0) logger.info('database migrated', { created, migrations: applied });
}

export function openDatabase(url: string, poolSize: number, resources: OpenResources): Database {
  return resources.add('database', openPool(url, poolSize), (database) => database.close());
}

/**
 * A Redis connection whose errors (ioredis reports every failed reconnect) are logged at debug
 * and counted. `producer`: fails fast while Redis is away, for queueing jobs; `worker`: waits
 * for Redis however long it is away, for BullMQ's workers.
 */
export function openRedisConnection(url: string, role: 'producer' | 'worker', resources: OpenResources, logger: Logger, dependencyErrors?: DependencyErrors): Redis {
  const connection = createRedisConnection(url, role);
  connection.on('error', (error) => {
    dependencyErrors?.dependencyError('redis');
    logger.debug('redis connection error', { role, error: error.message });
  });
  // QUIT needs Redis to answer; a connection that is not up (Redis away) only stops reconnecting.
  return resources.add(`${role} connection`, connection, async (opened) => (opened.status === 'ready' ? opened.quit() : opened.disconnect()));
}

/** JOB_ATTEMPTS and JOB_BACKOFF_*: given to the events queue's jobs, and to the worker that retries them. */
export function retryPolicyOf(worker: Config['worker']): RetryPolicy {
  return { attempts: worker.attempts, backoffMs: worker.backoffMs, backoffMaxMs: worker.backoffMaxMs };
}

/**
 * The events queue, on a producer connection: its jobs carry the retry policy. The API queues each
 * delivery's job on it, the worker the jobs it splits off and the sweeper those it queues again.
 */
export function openEventsQueue(redis: Config['redis'], retryPolicy: RetryPolicy, connection: Redis, resources: OpenResources, logger: Logger): ProjectionJobs {
  const queue = openQueue(EVENTS_QUEUE_NAME, redis.prefix, connection, resources, logger, projectionJobOptions(retryPolicy));
  return new ProjectionJobs(queue, connection);
}

/** For an operator's command: the events queue on a connection of its own, once Redis answers (else QueueUnavailableError). */
export async function openReadyEventsQueue(config: Config, resources: OpenResources, logger: Logger): Promise<ProjectionJobs> {
  const connection = openRedisConnection(config.redis.url, 'producer', resources, logger);
  const events = openEventsQueue(config.redis, retryPolicyOf(config.worker), connection, resources, logger);
  await events.waitUntilReady(COMMAND_REDIS_WAIT_MS, config.redis.url);
  return events;
}

/** The queue of the periodic reconciliation runs. */
export function openReconciliationQueue(redis: Config['redis'], connection: Redis, resources: OpenResources, logger: Logger): Queue {
  return openQueue(RECONCILIATION_QUEUE_NAME, redis.prefix, connection, resources, logger);
}

/** The provider's API; undefined without its credentials. One per process: its rate limit and token are the process's. */
export function upvestApiOf(config: Config, logger: Logger): UpvestApi | undefined {
  const { upvestApi } = config;
  return upvestApi === undefined ? undefined : new UpvestApi(new UpvestApiClient({ ...upvestApi, logger }));
}

/** A queue on an existing connection; its errors are that connection's, already counted there. */
function openQueue(name: string, prefix: string, connection: Redis, resources: OpenResources, logger: Logger, defaultJobOptions?: JobsOptions): Queue {
  const queue = new Queue(name, { connection, prefix, defaultJobOptions });
  queue.on('error', (error) => logger.debug('queue error', { queue: name, error: error.message }));
  return resources.add(`queue ${name}`, queue, (opened) => opened.close());
}
