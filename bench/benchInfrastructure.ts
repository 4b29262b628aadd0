import { Queue } from 'bullmq';
import { Pool } from 'pg';
import { Config } from '../src/config/config';
import { Logger } from '../src/logging/logger';
import { COMMAND_POOL_SIZE, openDatabase, openEventsQueue, openRedisConnection, retryPolicyOf } from '../src/wiring/infrastructure';
import { OpenResources } from '../src/wiring/OpenResources';

/** What the bench itself reads and drives besides the service processes: the run's database and the events queue. */
export interface BenchInfrastructure {
  /** For counting and checking rows, and emptying the tables between phases. */
  pool: Pool;
  /** For pausing the queue while the projection workload fills it, and counting its events. */
  eventsQueue: Queue;
  close(): Promise<void>;
}

/**
 * The bench's own view of the run, built from the service's shared infrastructure like an
 * operator's command. Nothing connects before first use: the service creates the database.
 */
export function openBenchInfrastructure(config: Config, logger: Logger): BenchInfrastructure {
  const resources = new OpenResources(logger);
  const database = openDatabase(config.database.url, COMMAND_POOL_SIZE, resources);
  const connection = openRedisConnection(config.redis.url, 'producer', resources, logger);
  const events = openEventsQueue(config.redis, retryPolicyOf(config.worker), connection, resources, logger);
  return { pool: database.pool, eventsQueue: events.queue, close: () => resources.closeAll() };
}
