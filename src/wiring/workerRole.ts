import { Config } from '../config/config';
import { ReadinessCheck } from '../http/healthRoutes';
import { InboxWriter } from '../inbox/InboxWriter';
import { InboxSweeper } from '../inbox/InboxSweeper';
import { SweeperInbox } from '../inbox/SweeperInbox';
import { WorkerInbox } from '../inbox/WorkerInbox';
import { receiveLegacyJob } from '../ingest/legacyJobs';
import { Logger } from '../logging/logger';
import { ProjectionStore } from '../projection/ProjectionStore';
import { ProjectionWorker } from '../projection/ProjectionWorker';
import { RedisSettingsCheck } from '../queue/redisSettings';
import { ReconciliationScheduler } from '../reconciliation/ReconciliationScheduler';
import { Reconciler } from '../reconciliation/Reconciler';
import { ReconciliationStore } from '../reconciliation/ReconciliationStore';
import { openReconciliationQueue, openRedisConnection, retryPolicyOf } from './infrastructure';
import { startPushDelivery } from './pushDelivery';
import { ServiceInfrastructure } from './serviceInfrastructure';

/** The worker role, started. */
export interface WorkerRole {
  readinessChecks: ReadinessCheck[];
  /** The active jobs and a running reconciliation finish; then the sweeper stops. */
  stop(): Promise<void>;
}

/**
 * Starts the worker role: the projection worker, the inbox sweeper, the push to subscriptions and,
 * with the provider's API, the periodic reconciliation. Their blocking Redis commands use a connection of their own, which
 * waits for Redis however long it is away.
 */
export async function startWorkerRole(config: Config, logger: Logger, infrastructure: ServiceInfrastructure): Promise<WorkerRole> {
  const { database, events, upvestApi, metrics, resources } = infrastructure;
  const connection = openRedisConnection(config.redis.url, 'worker', resources, logger, metrics.dependencyErrors);
  // The check of the Redis the worker queues on: it must keep its keys.
  const redisSettings = new RedisSettingsCheck(connection, {
    logger,
    onPolicy: (policy) => metrics.queues.redisPolicy(policy),
    enforce: config.environment === 'production',
  });
  redisSettings.check().catch(() => undefined); // says at start what it found; readiness says the rest
  const store = new ProjectionStore(database.prisma);
  const legacyInbox = new InboxWriter(database.pool);
  const worker = new ProjectionWorker(store, new WorkerInbox(database.pool), events, logger, {
    connection,
    concurrency: config.worker.concurrency,
    batchSize: config.worker.batchSize,
    batchWaitMs: config.worker.batchWaitMs,
    retryPolicy: retryPolicyOf(config.worker),
    lockDurationMs: config.worker.lockDurationMs,
    receiveLegacyJob: (job) => receiveLegacyJob(job, legacyInbox),
    metrics: metrics.projection,
  });
  const sweeper = new InboxSweeper(new SweeperInbox(database.pool), events, logger, {
    intervalMs: config.inbox.sweepIntervalMs,
    minAgeSeconds: config.inbox.sweepAfterSeconds,
    batchSize: config.worker.batchSize,
    metrics: metrics.inboxSweeper,
  });
  const push = await startPushDelivery(config, logger, database, metrics.push);
  worker.start();
  sweeper.start();
  let scheduler: ReconciliationScheduler | undefined;
  const stop = async () => {
    await Promise.all([scheduler?.close(), worker.close(), push.stop()]);
    await sweeper.stop();
  };
  const readinessChecks = [{ name: 'redis', check: () => redisSettings.check() }];
  if (upvestApi === undefined) {
    logger.info('reconciliation is off: no Upvest API credentials configured');
    return { readinessChecks, stop };
  }
  const reconciliationQueue = openReconciliationQueue(config.redis, connection, resources, logger);
  // Counted where the runs are, so that an api replica showing it in bull-board does not count it again.
  metrics.queues.watch(reconciliationQueue);
  const reconciler = new Reconciler(new ReconciliationStore(database.prisma), upvestApi, store, logger, config.reconciliation, metrics.reconciliation);
  scheduler = new ReconciliationScheduler(reconciler, reconciliationQueue, logger, { connection, intervalMs: config.reconciliation.intervalMs });
  await scheduler.start().catch(async (error) => {
    await stop();
    throw error;
  });
  return { readinessChecks, stop };
}
