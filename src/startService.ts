import { once } from 'node:events';
import { Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { Config } from './config/config';
import { sqlStateOf, UNDEFINED_TABLE } from './database/databaseErrors';
import { APPLIED_MIGRATIONS_SQL, migrateDatabase, pendingMigrationNames, readMigrations } from './database/migrations';
import { createPrismaClient, PrismaClient } from './database/prismaClient';
import { createApp } from './http/createApp';
import { ReadinessCheck } from './http/healthRoutes';
import { BatchIngestor } from './ingest/BatchIngestor';
import { Logger } from './logging/logger';
import { ProjectionStore } from './projection/ProjectionStore';
import { ProjectionWorker } from './projection/ProjectionWorker';
import { QuarantineStore } from './quarantine/QuarantineStore';
import { defaultJobOptions, EVENTS_QUEUE_NAME } from './queue/jobs';
import { createRedisConnection } from './queue/redisConnection';
import { withTimeout } from './shared/withTimeout';
import { DEFAULT_DEV_KEY_DIR, loadOrCreateDevKeyPair, VerificationKeySet, verifyWebhookSignature } from './signature';

export interface RunningService {
  port: number;
  /** Stops accepting requests, lets in-flight requests and active jobs finish, then disconnects. */
  close(): Promise<void>;
  /** Drops open connections at once, for when close() takes longer than the shutdown timeout. */
  forceClose(): void;
}

/** Wires the service for its role (api, worker or all) and starts it. */
export async function startService(config: Config, logger: Logger): Promise<RunningService> {
  const runsApi = config.role !== 'worker';
  const runsWorker = config.role !== 'api';
  if (config.database.migrateOnStart) await migrate(config, logger);

  const prisma = createPrismaClient(config.database.url, config.database.poolSize);
  const closers: Array<() => Promise<unknown>> = [];
  const readinessChecks: ReadinessCheck[] = [postgresReadiness(prisma)];
  let webhook: Parameters<typeof createApp>[0]['webhook'];

  if (runsApi) {
    const connection = createRedisConnection(config.redis.url, 'producer');
    connection.on('error', (error) => logger.debug('producer redis error', { error: error.message }));
    const queue = new Queue(EVENTS_QUEUE_NAME, {
      connection,
      prefix: config.redis.prefix,
      defaultJobOptions: defaultJobOptions(config.worker.attempts),
    });
    queue.on('error', (error) => logger.debug('queue error', { error: error.message }));
    const keys = verificationKeys(config, logger);
    webhook = {
      path: config.webhook.path,
      bodyLimitBytes: config.webhook.bodyLimitBytes,
      publicUrl: config.webhook.publicUrl,
      retryAfterSeconds: config.ingest.retryAfterSeconds,
      verifySignature: (message) => verifyWebhookSignature(message, { keys, ...config.signature }),
      ingestor: new BatchIngestor(queue, connection, {
        prefix: config.redis.prefix,
        dedupTtlSeconds: config.ingest.dedupTtlSeconds,
        timeoutMs: config.ingest.timeoutMs,
      }),
    };
    readinessChecks.push(redisReadiness(connection));
    closers.push(() => queue.close(), () => connection.quit());
    // The producer connection fails fast instead of queueing commands; give it a moment to connect
    // so that the first deliveries after a start are not answered 503 for nothing.
    await withTimeout(queue.waitUntilReady(), 5000, () => new Error('Redis not reachable')).catch((error) =>
      logger.warn('starting without Redis; deliveries are answered 503 until it is reachable', { error: error.message }),
    );
  }

  let worker: ProjectionWorker | undefined;
  if (runsWorker) {
    const connection = createRedisConnection(config.redis.url, 'worker');
    connection.on('error', (error) => logger.debug('worker redis error', { error: error.message }));
    worker = new ProjectionWorker(new ProjectionStore(prisma), new QuarantineStore(prisma), logger, {
      connection,
      prefix: config.redis.prefix,
      ...config.worker,
    });
    if (!runsApi) readinessChecks.push(redisReadiness(connection));
    worker.start();
    closers.unshift(() => (worker as ProjectionWorker).close());
    closers.push(() => connection.quit());
  }
  closers.push(() => prisma.$disconnect());

  const app = createApp({ logger, readinessChecks, webhook });
  const server = app.listen(config.port);
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  logger.info('service started', { role: config.role, port, webhookPath: runsApi ? config.webhook.path : undefined });

  return {
    port,
    async close() {
      app.locals.shuttingDown = true;
      // The HTTP server and the worker drain in parallel; connections close after both.
      await Promise.all([closeServer(server), worker?.close()]);
      for (const close of closers) await close().catch((error) => logger.warn('error while closing', { error: String(error) }));
      logger.info('service stopped');
    },
    forceClose() {
      server.closeAllConnections();
    },
  };
}

async function migrate(config: Config, logger: Logger): Promise<void> {
  const { created, applied } = await migrateDatabase(config.database.url);
  if (created || applied.length > 0) logger.info('database migrated', { created, migrations: applied });
}

function verificationKeys(config: Config, logger: Logger): VerificationKeySet {
  if (config.webhook.verificationKeys !== undefined) return config.webhook.verificationKeys;
  const devKeys = loadOrCreateDevKeyPair(DEFAULT_DEV_KEY_DIR);
  logger.warn('no UPVEST_WEBHOOK_JWKS configured: accepting only the local development key; never do this in production', {
    kid: devKeys.kid,
    directory: DEFAULT_DEV_KEY_DIR,
  });
  return VerificationKeySet.fromJwks(devKeys.jwks);
}

function postgresReadiness(prisma: PrismaClient): ReadinessCheck {
  const migrations = readMigrations();
  return {
    name: 'postgres',
    async check() {
      const rows = await prisma.$queryRawUnsafe<Array<{ migration_name: string }>>(APPLIED_MIGRATIONS_SQL).catch((error) => {
        if (sqlStateOf(error) === UNDEFINED_TABLE) return []; // no _prisma_migrations yet: nothing applied
        throw error;
      });
      const pending = pendingMigrationNames(migrations, rows.map((row) => row.migration_name));
      if (pending.length > 0) throw new Error(`migrations not applied: ${pending.join(', ')}`);
    },
  };
}

function redisReadiness(connection: Redis): ReadinessCheck {
  return {
    name: 'redis',
    async check() {
      await connection.ping();
    },
  };
}

async function closeServer(server: Server): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  await closed;
}
