import { once } from 'node:events';
import { closeServer } from './shared/closeServer';
import { AddressInfo } from 'node:net';
import { Queue, QueueOptions } from 'bullmq';
import { Router } from 'express';
import { createAdminRouter } from './admin/createAdminRouter';
import { Redis } from 'ioredis';
import { Config } from './config/config';
import { sqlStateOf, UNDEFINED_TABLE } from './database/databaseErrors';
import { APPLIED_MIGRATIONS_SQL, migrateDatabase, pendingMigrationNames, readMigrations } from './database/migrations';
import { openDatabase, PrismaClient } from './database/prismaClient';
import { createApp } from './http/createApp';
import { ReadinessCheck } from './http/healthRoutes';
import { InboxCommitter } from './inbox/InboxCommitter';
import { InboxStore } from './inbox/InboxStore';
import { InboxSweeper } from './inbox/InboxSweeper';
import { BatchIngestor } from './ingest/BatchIngestor';
import { Logger } from './logging/logger';
import { Metrics } from './metrics/Metrics';
import { startMetricsServer } from './metrics/metricsServer';
import { ProjectionStore } from './projection/ProjectionStore';
import { ProjectionWorker } from './projection/ProjectionWorker';
import { ProviderKeyStore } from './provider/ProviderKeyStore';
import { UpvestApi } from './provider/UpvestApi';
import { UpvestApiClient } from './provider/UpvestApiClient';
import { createReadApiRouter } from './readApi/createReadApiRouter';
import { Reconciler } from './reconciliation/Reconciler';
import { RECONCILIATION_QUEUE_NAME, ReconciliationScheduler } from './reconciliation/ReconciliationScheduler';
import { defaultJobOptions, EVENTS_QUEUE_NAME } from './queue/jobs';
import { ProjectionJobs } from './queue/ProjectionJobs';
import { createRedisConnection } from './queue/redisConnection';
import { RedisSettingsCheck } from './queue/redisSettings';
import { DEFAULT_DEV_KEY_DIR, type KeyLookup, loadOrCreateDevKeyPair, VerificationKeySet, verifyWebhookSignature } from './signature';

export interface RunningService {
  port: number;
  /** Where GET <METRICS_PATH> answers: a port of its own, or `port` when METRICS_PORT=0. */
  metricsPort: number;
  /** Stops accepting requests, lets in-flight requests and active jobs finish, then disconnects. */
  close(): Promise<void>;
  /** Drops open connections at once, for when close() takes longer than the shutdown timeout. */
  forceClose(): void;
}

/** Wires the service for its role (api, worker or all) and starts it. */
export async function startService(config: Config, logger: Logger): Promise<RunningService> {
  const runsApi = config.role !== 'worker';
  const runsWorker = config.role !== 'api';
  // One registry per service: tests run several services in one process.
  const metrics = new Metrics();
  // First, so that a taken port stops the start before anything else was opened.
  const metricsServer = config.metrics.port === 0 ? undefined : await startMetricsServer(metrics, config.metrics, logger);
  if (config.database.migrateOnStart) await migrate(config, logger);

  const database = openDatabase(config.database.url, config.database.poolSize);
  const { prisma } = database;
  const inbox = new InboxStore(database.pool);
  const closers: Array<() => Promise<unknown>> = [];
  const readinessChecks: ReadinessCheck[] = [postgresReadiness(prisma, metrics)];
  const api = config.upvestApi && new UpvestApi(new UpvestApiClient({ ...config.upvestApi, logger }));
  // The events queue of this process: the API queues each delivery's job on it, the worker the
  // jobs it splits off and the sweeper those it queues again; the metrics read its counts.
  const producer = redisConnection(config, 'producer', metrics, logger);
  const queue = openQueue(EVENTS_QUEUE_NAME, producer, config, logger, { defaultJobOptions: defaultJobOptions(config.worker.attempts) });
  metrics.watchQueue(queue);
  const jobs = new ProjectionJobs(queue, producer);
  let webhook: Parameters<typeof createApp>[0]['webhook'];
  const routers: Array<[string, Router]> = [];

  if (runsApi) {
    const { keyLookup, store } = await verificationKeys(config, api, logger);
    if (store !== undefined) {
      readinessChecks.push(keysReadiness(store));
      closers.push(async () => store.stop());
    }
    const verifyOptions = { keyLookup, ...config.signature };
    const committer = new InboxCommitter(inbox, jobs, { logger, onJobNotQueued: () => metrics.dependencyError('redis') });
    const ingestor = new BatchIngestor(committer, inbox, { timeoutMs: config.ingest.timeoutMs, metrics });
    webhook = {
      path: config.webhook.path,
      bodyLimitBytes: config.webhook.bodyLimitBytes,
      publicUrl: config.webhook.publicUrl,
      retryAfterSeconds: config.ingest.retryAfterSeconds,
      verifySignature: (message) => verifyWebhookSignature(message, verifyOptions),
      ingestor,
    };
    // The jobs of the deliveries answered last are queued before Redis is let go.
    closers.push(() => committer.drain());
    // Both operate on the same HTTP port as the webhook; the Helm ingress exposes only the webhook path.
    if (config.adminToken !== undefined) {
      const reconciliationQueue = openQueue(RECONCILIATION_QUEUE_NAME, producer, config, logger);
      closers.push(() => reconciliationQueue.close());
      routers.push(['/admin', createAdminRouter({ token: config.adminToken, queues: [queue, reconciliationQueue], eventsQueue: queue, prisma, inbox, ingestor, logger })]);
    }
    if (config.readApiToken !== undefined) routers.push(['/', createReadApiRouter({ token: config.readApiToken, prisma, logger })]);
  }

  let worker: ProjectionWorker | undefined;
  if (runsWorker) {
    const connection = redisConnection(config, 'worker', metrics, logger);
    const redisSettings = new RedisSettingsCheck(connection, {
      logger,
      onPolicy: (policy) => metrics.redisPolicy(policy),
      enforce: config.environment === 'production',
    });
    // The worker needs Redis, and one that keeps its keys; the API's answers need only Postgres.
    readinessChecks.push({ name: 'redis', check: () => redisSettings.check() });
    redisSettings.check().catch(() => undefined); // says at start what it found; readiness says the rest
    worker = new ProjectionWorker(new ProjectionStore(prisma), inbox, jobs, logger, {
      connection,
      prefix: config.redis.prefix,
      ...config.worker,
      metrics,
    });
    const sweeper = new InboxSweeper(inbox, jobs, logger, {
      intervalMs: config.inbox.sweepIntervalMs,
      minAgeSeconds: config.inbox.sweepAfterSeconds,
      batchSize: config.worker.batchSize,
      metrics,
    });
    worker.start();
    sweeper.start();
    closers.push(
      () => sweeper.stop(),
      () => connection.quit(),
    );
    if (api !== undefined) {
      closers.unshift(await startReconciliation(config, api, prisma, logger, metrics));
    } else {
      logger.info('reconciliation is off: no Upvest API credentials configured');
    }
  }
  closers.push(
    () => queue.close(),
    () => producer.quit(),
    () => database.close(),
  );

  const app = createApp({ logger, readinessChecks, webhook, metrics, metricsPath: metricsServer === undefined ? config.metrics.path : undefined, routers });
  const server = app.listen(config.port);
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  const metricsPort = metricsServer?.port ?? port;
  logger.info('service started', {
    role: config.role,
    port,
    webhookPath: runsApi ? config.webhook.path : undefined,
    metricsPort,
    metricsPath: config.metrics.path,
  });

  return {
    port,
    metricsPort,
    async close() {
      app.locals.shuttingDown = true;
      // The HTTP servers and the worker drain in parallel; connections close after them.
      await Promise.all([closeServer(server), metricsServer?.close(), worker?.close()]);
      for (const close of closers) await close().catch((error) => logger.warn('error while closing', { error: String(error) }));
      logger.info('service stopped');
    },
    forceClose() {
      server.closeAllConnections();
      metricsServer?.forceClose();
    },
  };
}

async function migrate(config: Config, logger: Logger): Promise<void> {
  const { created, applied } = await migrateDatabase(config.database.url);
  if (created || applied.length > 0) logger.info('database migrated', { created, migrations: applied });
}

/** Starts the periodic reconciliation; returns what stops it. */
async function startReconciliation(config: Config, api: UpvestApi, prisma: PrismaClient, logger: Logger, metrics: Metrics): Promise<() => Promise<void>> {
  const connection = redisConnection(config, 'worker', metrics, logger);
  const reconciler = new Reconciler(prisma, api, new ProjectionStore(prisma), logger, config.reconciliation, metrics);
  const scheduler = new ReconciliationScheduler(reconciler, logger, { connection, prefix: config.redis.prefix, intervalMs: config.reconciliation.intervalMs });
  metrics.watchQueue(scheduler.queue);
  await scheduler.start();
  return async () => {
    await scheduler.close();
    await connection.quit();
  };
}

/** A delivery signed with an unknown key id waits at most this long for the key refresh it triggers. */
const KEY_REFRESH_WAIT_MS = 5000;

/**
 * A static JWKS wins; else the provider's keys from its API; else, outside production, the
 * local development key. The store, when there is one, is to be reported by readiness and stopped.
 */
async function verificationKeys(config: Config, api: UpvestApi | undefined, logger: Logger): Promise<{ keyLookup: KeyLookup; store?: ProviderKeyStore }> {
  if (config.webhook.verificationKeys !== undefined) return { keyLookup: config.webhook.verificationKeys.lookup };
  if (api !== undefined) {
    const store = new ProviderKeyStore(() => api.verificationKeys(), logger, {
      refreshIntervalMs: config.webhook.keyRefreshIntervalMs,
      minRefreshIntervalMs: config.webhook.keyMinRefreshIntervalMs,
      refreshWaitMs: KEY_REFRESH_WAIT_MS,
    });
    // Not awaited: the service serves while the keys load (a slow or failing API retries for minutes);
    // until they have loaded, deliveries are answered 503 and the provider retries.
    void store.start();
    return { keyLookup: store.lookup, store };
  }
  const devKeys = loadOrCreateDevKeyPair(DEFAULT_DEV_KEY_DIR);
  logger.warn('no UPVEST_WEBHOOK_JWKS configured: accepting only the local development key; never do this in production', {
    kid: devKeys.kid,
    directory: DEFAULT_DEV_KEY_DIR,
  });
  return { keyLookup: VerificationKeySet.fromJwks(devKeys.jwks).lookup };
}

/** A Redis connection whose errors (ioredis reports every failed reconnect) are logged at debug and counted. */
function redisConnection(config: Config, role: 'producer' | 'worker', metrics: Metrics, logger: Logger): Redis {
  const connection = createRedisConnection(config.redis.url, role);
  connection.on('error', (error) => {
    metrics.dependencyError('redis');
    logger.debug('redis connection error', { role, error: error.message });
  });
  return connection;
}

/** A queue on an existing connection; its errors are that connection's, already counted there. */
function openQueue(name: string, connection: Redis, config: Config, logger: Logger, options: Partial<QueueOptions> = {}): Queue {
  const queue = new Queue(name, { connection, prefix: config.redis.prefix, ...options });
  queue.on('error', (error) => logger.debug('queue error', { queue: name, error: error.message }));
  return queue;
}

function postgresReadiness(prisma: PrismaClient, metrics: Metrics): ReadinessCheck {
  const migrations = readMigrations();
  return {
    name: 'postgres',
    async check() {
      const rows = await prisma.$queryRawUnsafe<Array<{ migration_name: string }>>(APPLIED_MIGRATIONS_SQL).catch((error) => {
        if (sqlStateOf(error) === UNDEFINED_TABLE) return []; // no _prisma_migrations yet: nothing applied
        metrics.dependencyError('postgres');
        throw error;
      });
      const pending = pendingMigrationNames(migrations, rows.map((row) => row.migration_name));
      if (pending.length > 0) throw new Error(`migrations not applied: ${pending.join(', ')}`);
    },
  };
}

function keysReadiness(store: ProviderKeyStore): ReadinessCheck {
  return {
    name: 'verification-keys',
    async check() {
      if (!store.loaded) throw new Error("the provider's verification keys are not loaded yet");
    },
  };
}
