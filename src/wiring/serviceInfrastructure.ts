import { Config } from '../config/config';
import { databaseReadiness } from '../database/databaseReadiness';
import { Database } from '../database/Database';
import { ReadinessCheck } from '../http/healthRoutes';
import { InboxBacklog } from '../inbox/InboxBacklog';
import { Logger } from '../logging/logger';
import { UpvestApi } from '../provider/UpvestApi';
import { PushBacklog } from '../push/PushBacklog';
import { QuarantineBacklog } from '../quarantine/QuarantineBacklog';
import { ProjectionJobs } from '../queue/ProjectionJobs';
import { openDatabase, openEventsQueue, openRedisConnection, retryPolicyOf, upvestApiOf } from './infrastructure';
import { OpenResources } from './OpenResources';
import { registerServiceMetrics, ServiceMetrics } from './serviceMetrics';

/**
 * What the roles of one service process share, whichever of them it runs: the Postgres pool, the
 * events queue on the producer connection, the provider's API client, the metrics, and what
 * closes it all.
 */
export interface ServiceInfrastructure {
  database: Database;
  /** The API queues each delivery's job on it, the worker the jobs it splits off and the sweeper those it queues again. */
  events: ProjectionJobs;
  /** Undefined without the provider's API credentials. One per process: its rate limit and access token are the process's. */
  upvestApi: UpvestApi | undefined;
  metrics: ServiceMetrics;
  /** Postgres answers and its migrations are applied: every role's readiness. */
  databaseReadiness: ReadinessCheck;
  resources: OpenResources;
}

/** Opens the service's shared infrastructure; the caller closes it with `resources.closeAll()`. */
export function openServiceInfrastructure(config: Config, logger: Logger, resources: OpenResources): ServiceInfrastructure {
  const database = openDatabase(config.database.url, config.database.poolSize, resources);
  const metrics = registerServiceMetrics({ inbox: new InboxBacklog(database.pool), quarantine: new QuarantineBacklog(database.pool), push: new PushBacklog(database.pool) });
  const { dependencyErrors } = metrics;
  // Fails fast while Redis is away: a job Redis does not take is queued later by the inbox sweeper.
  const producer = openRedisConnection(config.redis.url, 'producer', resources, logger, dependencyErrors);
  const events = openEventsQueue(config.redis, retryPolicyOf(config.worker), producer, resources, logger);
  metrics.queues.watch(events.queue);
  return {
    database,
    events,
    upvestApi: upvestApiOf(config, logger),
    metrics,
    databaseReadiness: { name: 'postgres', check: databaseReadiness(database.pool, () => dependencyErrors.dependencyError('postgres')) },
    resources,
  };
}
