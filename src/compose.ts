import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { ChangeCursors } from './changes/ChangeCursors';
import { ChangeFeed } from './changes/ChangeFeed';
import { ChangeNotifications } from './changes/ChangeNotifications';
import { Config, ServiceRole } from './config/config';
import { migrateDatabase } from './database/migrations';
import { Database, openDatabase } from './database/prismaClient';
import { databaseReadiness } from './database/databaseReadiness';
import { ReadinessCheck } from './http/healthRoutes';
import { InboxCommitter } from './inbox/InboxCommitter';
import { InboxStore } from './inbox/InboxStore';
import { BatchIngestor } from './ingest/BatchIngestor';
import { Logger } from './logging/logger';
import { Metrics } from './metrics/Metrics';
import { PostgresBacklog } from './metrics/PostgresBacklog';
import { FailedJobQuarantiner } from './operations/FailedJobQuarantiner';
import { FailedJobs } from './operations/FailedJobs';
import { Operations } from './operations/Operations';
import { PaymentReprojector } from './operations/PaymentReprojector';
import { QuarantineReprocessor } from './operations/QuarantineReprocessor';
import { ProjectionStore } from './projection/ProjectionStore';
import { ProviderKeyStore } from './provider/ProviderKeyStore';
import { UpvestApi } from './provider/UpvestApi';
import { UpvestApiClient } from './provider/UpvestApiClient';
import { QuarantineStore } from './quarantine/QuarantineStore';
import { ProjectionJobs } from './queue/ProjectionJobs';
import { createRedisConnection } from './queue/redisConnection';
import { EVENTS_QUEUE_NAME, RECONCILIATION_QUEUE_NAME } from './queue/redisKeys';
import { RedisSettingsCheck } from './queue/redisSettings';
import { projectionJobOptions, RetryPolicy } from './queue/retryPolicy';
import { ChangeRoutesOptions } from './readApi/changeRoutes';
import { PaymentReader } from './readApi/PaymentReader';
import { Backfill } from './reconciliation/Backfill';
import { Reconciler } from './reconciliation/Reconciler';
import { withTimeout } from './shared/withTimeout';
import { DEFAULT_DEV_KEY_DIR, KeyLookup, loadOrCreateDevKeyPair, SignedMessage, VerificationKeySet, VerifiedSignature, verifyWebhookSignature } from './signature';

/** What a process runs: one of the service's roles, or an operator's command (the CLI, the bench). */
export type ComponentsRole = ServiceRole | 'cli';

/** A delivery signed with an unknown key id waits at most this long for the key refresh it triggers. */
const KEY_REFRESH_WAIT_MS = 5000;

/** How long an operator's command waits for Redis before it says that Redis is not reachable. */
const CLI_REDIS_WAIT_MS = 5000;

/**
 * Every shared object of a process, each built once, on first use: the service, the CLI and the
 * bench take theirs from here. A command that needs only Postgres therefore never connects to
 * Redis, and one that needs only the provider's API opens no database. close() closes what was
 * built, the last built first, so that nothing is closed before what still uses it.
 */
export class Components implements Operations {
  readonly metrics: Metrics;
  /** JOB_ATTEMPTS and JOB_BACKOFF_*: given to the events queue's jobs and to the worker that retries them. */
  readonly retryPolicy: RetryPolicy;
  private readonly closers: Array<{ name: string; close: () => Promise<unknown> }> = [];
  private built: Partial<{
    database: Database;
    producerConnection: Redis;
    workerConnection: Redis;
    projectionJobs: ProjectionJobs;
    reconciliationQueue: Queue;
    inbox: InboxStore;
    projectionStore: ProjectionStore;
    quarantineStore: QuarantineStore;
    paymentReader: PaymentReader;
    changeRoutes: ChangeRoutesOptions;
    ingestor: BatchIngestor;
    api: UpvestApi | null;
    keyLookup: KeyLookup;
    verifySignature: (message: SignedMessage & { body: Buffer }) => Promise<VerifiedSignature>;
    keyStore: ProviderKeyStore | null;
    redisSettings: RedisSettingsCheck;
    reconciler: Reconciler | null;
    backfill: Backfill | null;
    failedJobs: FailedJobs;
    failedJobQuarantiner: FailedJobQuarantiner;
    quarantineReprocessor: QuarantineReprocessor;
    paymentReprojector: PaymentReprojector;
  }> = {};

  constructor(
    readonly config: Config,
    readonly logger: Logger,
    readonly role: ComponentsRole,
  ) {
    // One registry per process: tests run several services in one process. Commands export no metrics.
    this.metrics = new Metrics({ defaultMetrics: role !== 'cli' });
    this.retryPolicy = { attempts: config.worker.attempts, backoffMs: config.worker.backoffMs, backoffMaxMs: config.worker.backoffMaxMs };
  }

  get runsApi(): boolean {
    return this.role === 'api' || this.role === 'all';
  }

  get runsWorker(): boolean {
    return this.role === 'worker' || this.role === 'all';
  }

  /** Creates the database if needed and applies pending migrations, when MIGRATE_ON_START says so. */
  async migrateIfConfigured(): Promise<void> {
    if (!this.config.database.migrateOnStart) return;
    const { created, applied } = await migrateDatabase(this.config.database.url);
    if (created || applied.length > 0) this.logger.info('database migrated', { created, migrations: applied });
  }

  /** The database; the metrics read its backlog. */
  get database(): Database {
    if (this.built.database === undefined) {
      this.built.database = this.closing('database', openDatabase(this.config.database.url, this.role === 'cli' ? 2 : this.config.database.poolSize), (database) => database.close());
      this.metrics.watchBacklog(new PostgresBacklog(this.built.database.pool));
    }
    return this.built.database;
  }

  /** The connection that queues jobs: it fails fast while Redis is away, and the inbox sweeper queues them later. */
  get producerConnection(): Redis {
    return (this.built.producerConnection ??= this.closing('producer connection', this.redisConnection('producer'), (connection) => connection.quit()));
  }

  /** The connection of the workers (projection and reconciliation): it waits for Redis, however long it is away. */
  get workerConnection(): Redis {
    return (this.built.workerConnection ??= this.closing('worker connection', this.redisConnection('worker'), (connection) => connection.quit()));
  }

  /**
   * The events queue, as the inbox and the worker use it. Its jobs carry the retry policy. The API
   * queues each delivery's job on it, the worker the jobs it splits off and the sweeper those it
   * queues again; the metrics read its counts.
   */
  get projectionJobs(): ProjectionJobs {
    if (this.built.projectionJobs === undefined) {
      const queue = this.openQueue(EVENTS_QUEUE_NAME, this.producerConnection, { defaultJobOptions: projectionJobOptions(this.retryPolicy) });
      this.metrics.watchQueue(queue);
      this.built.projectionJobs = new ProjectionJobs(queue, this.producerConnection);
    }
    return this.built.projectionJobs;
  }

  /** The queue of reconciliation runs: on the worker's connection, as its scheduler starts with the worker. */
  get reconciliationQueue(): Queue {
    if (this.built.reconciliationQueue === undefined) {
      this.built.reconciliationQueue = this.openQueue(RECONCILIATION_QUEUE_NAME, this.workerConnection);
      // Counted where the runs are, so that an API replica showing it in bull-board does not count it again.
      if (this.runsWorker) this.metrics.watchQueue(this.built.reconciliationQueue);
    }
    return this.built.reconciliationQueue;
  }

  get inbox(): InboxStore {
    return (this.built.inbox ??= new InboxStore(this.database.pool));
  }

  get projectionStore(): ProjectionStore {
    return (this.built.projectionStore ??= new ProjectionStore(this.database.prisma));
  }

  get quarantineStore(): QuarantineStore {
    return (this.built.quarantineStore ??= new QuarantineStore(this.database.prisma));
  }

  /** The change feed of the read API: its reader, its cursors (signed with READ_API_TOKEN) and its wake-ups. */
  get changeRoutes(): ChangeRoutesOptions {
    if (this.built.changeRoutes === undefined) {
      const notifications = new ChangeNotifications(this.config.database.url, this.logger);
      void notifications.start();
      this.closing('change notifications', notifications, (started) => started.stop());
      this.built.changeRoutes = {
        feed: new ChangeFeed(this.database.pool),
        cursors: new ChangeCursors(this.config.readApiToken ?? ''),
        notifications,
      };
    }
    return this.built.changeRoutes;
  }

  get paymentReader(): PaymentReader {
    return (this.built.paymentReader ??= new PaymentReader(this.database.prisma));
  }

  /**
   * Receives a delivery's content: commits its events to the inbox, then queues their job. Used by
   * the webhook endpoint and by quarantine reprocessing; the jobs of the content answered last are
   * queued before Redis is let go.
   */
  get ingestor(): BatchIngestor {
    if (this.built.ingestor === undefined) {
      const committer = new InboxCommitter(this.inbox, this.projectionJobs, { logger: this.logger, onJobNotQueued: () => this.metrics.dependencyError('redis') });
      this.closing('inbox committer', committer, (built) => built.drain());
      this.built.ingestor = new BatchIngestor(committer, this.inbox, { timeoutMs: this.config.ingest.timeoutMs, metrics: this.metrics });
    }
    return this.built.ingestor;
  }

  /** The provider's API; undefined without its credentials. */
  get api(): UpvestApi | undefined {
    if (this.built.api === undefined) {
      const { upvestApi } = this.config;
      this.built.api = upvestApi === undefined ? null : new UpvestApi(new UpvestApiClient({ ...upvestApi, logger: this.logger }));
    }
    return this.built.api ?? undefined;
  }

  /** Where verification finds the provider's keys: a static JWKS wins; else the provider's API; else, outside production, the local development key. */
  get keyLookup(): KeyLookup {
    return (this.built.keyLookup ??= this.keyStore?.lookup ?? (this.config.webhook.verificationKeys ?? this.developmentKeys()).lookup);
  }

  /** Authenticates a delivery with the configured signature settings. */
  get verifySignature(): (message: SignedMessage & { body: Buffer }) => Promise<VerifiedSignature> {
    if (this.built.verifySignature === undefined) {
      const options = { keyLookup: this.keyLookup, ...this.config.signature };
      this.built.verifySignature = (message) => verifyWebhookSignature(message, options);
    }
    return this.built.verifySignature;
  }

  /** The provider's keys, fetched from its API, when no JWKS is configured and the API's credentials are. */
  private get keyStore(): ProviderKeyStore | undefined {
    if (this.built.keyStore === undefined) {
      const api = this.api;
      if (this.config.webhook.verificationKeys !== undefined || api === undefined) {
        this.built.keyStore = null;
      } else {
        const store = new ProviderKeyStore(() => api.verificationKeys(), this.logger, {
          refreshIntervalMs: this.config.webhook.keyRefreshIntervalMs,
          minRefreshIntervalMs: this.config.webhook.keyMinRefreshIntervalMs,
          refreshWaitMs: KEY_REFRESH_WAIT_MS,
        });
        // Not awaited: the service serves while the keys load (a slow or failing API retries for minutes);
        // until they have loaded, deliveries are answered 503 and the provider retries.
        void store.start();
        this.built.keyStore = this.closing('verification key store', store, async (started) => started.stop());
      }
    }
    return this.built.keyStore ?? undefined;
  }

  private developmentKeys(): VerificationKeySet {
    const devKeys = loadOrCreateDevKeyPair(DEFAULT_DEV_KEY_DIR);
    this.logger.warn('no UPVEST_WEBHOOK_JWKS configured: accepting only the local development key; never do this in production', {
      kid: devKeys.kid,
      directory: DEFAULT_DEV_KEY_DIR,
    });
    return VerificationKeySet.fromJwks(devKeys.jwks);
  }

  /** The check of the Redis the worker queues on: it must keep its keys. */
  get redisSettings(): RedisSettingsCheck {
    return (this.built.redisSettings ??= new RedisSettingsCheck(this.workerConnection, {
      logger: this.logger,
      onPolicy: (policy) => this.metrics.redisPolicy(policy),
      enforce: this.config.environment === 'production',
    }));
  }

  /** Corrects stale payments from the provider's API; undefined without its credentials. */
  get reconciler(): Reconciler | undefined {
    if (this.built.reconciler === undefined) {
      const api = this.api;
      this.built.reconciler = api === undefined ? null : new Reconciler(this.database.prisma, api, this.projectionStore, this.logger, this.config.reconciliation, this.metrics);
    }
    return this.built.reconciler ?? undefined;
  }

  /** Projects every payment the provider lists; undefined without its credentials. */
  get backfill(): Backfill | undefined {
    if (this.built.backfill === undefined) {
      const api = this.api;
      this.built.backfill = api === undefined ? null : new Backfill(this.database.prisma, api, this.projectionStore, this.logger);
    }
    return this.built.backfill ?? undefined;
  }

  // What an operator does, by the admin API or the CLI: the Operations these components implement.

  get failedJobs(): FailedJobs {
    return (this.built.failedJobs ??= new FailedJobs(this.projectionJobs.queue, this.inbox));
  }

  get failedJobQuarantiner(): FailedJobQuarantiner {
    return (this.built.failedJobQuarantiner ??= new FailedJobQuarantiner(this.projectionJobs.queue, this.inbox, this.quarantineStore));
  }

  get quarantineReprocessor(): QuarantineReprocessor {
    return (this.built.quarantineReprocessor ??= new QuarantineReprocessor(this.quarantineStore, this.ingestor));
  }

  get paymentReprojector(): PaymentReprojector {
    return (this.built.paymentReprojector ??= new PaymentReprojector(this.projectionStore, this.paymentReader));
  }

  /**
   * What /readyz checks: Postgres (and its migrations) always; the provider's keys where the API
   * verifies with them; the Redis settings where the worker runs. The API's answers need only Postgres.
   */
  readinessChecks(): ReadinessCheck[] {
    const checks = [databaseReadiness(this.database.pool, () => this.metrics.dependencyError('postgres'))];
    const keyStore = this.runsApi ? this.keyStore : undefined;
    if (keyStore !== undefined) {
      checks.push({
        name: 'verification-keys',
        check: async () => {
          if (!keyStore.loaded) throw new Error("the provider's verification keys are not loaded yet");
        },
      });
    }
    if (this.runsWorker) checks.push({ name: 'redis', check: () => this.redisSettings.check() });
    return checks;
  }

  /** For an operator's command: the events queue once Redis answers, or an error saying it does not. */
  async readyProjectionJobs(): Promise<ProjectionJobs> {
    const jobs = this.projectionJobs;
    await withTimeout(jobs.queue.waitUntilReady(), CLI_REDIS_WAIT_MS, () => new Error(`Redis not reachable at ${redactedUrl(this.config.redis.url)}`));
    return jobs;
  }

  /** Closes what was built, the last built first; a failure is logged and the rest still closed. */
  async close(): Promise<void> {
    for (const { name, close } of this.closers.splice(0).reverse()) {
      await close().catch((error) => this.logger.warn('error while closing', { component: name, error: String(error) }));
    }
  }

  private closing<T>(name: string, built: T, close: (built: T) => Promise<unknown>): T {
    this.closers.push({ name, close: () => close(built) });
    return built;
  }

  /** A Redis connection whose errors (ioredis reports every failed reconnect) are logged at debug and counted. */
  private redisConnection(role: 'producer' | 'worker'): Redis {
    const connection = createRedisConnection(this.config.redis.url, role);
    connection.on('error', (error) => {
      this.metrics.dependencyError('redis');
      this.logger.debug('redis connection error', { role, error: error.message });
    });
    return connection;
  }

  /** A queue on an existing connection; its errors are that connection's, already counted there. */
  private openQueue(name: string, connection: Redis, options: { defaultJobOptions?: ReturnType<typeof projectionJobOptions> } = {}): Queue {
    const queue = new Queue(name, { connection, prefix: this.config.redis.prefix, ...options });
    queue.on('error', (error) => this.logger.debug('queue error', { queue: name, error: error.message }));
    return this.closing(`queue ${name}`, queue, (opened) => opened.close());
  }
}

/** The components of a process in this role; a service's database is migrated first when MIGRATE_ON_START says so. */
export async function createComponents(config: Config, logger: Logger, role: ComponentsRole): Promise<Components> {
  const components = new Components(config, logger, role);
  if (role !== 'cli') await components.migrateIfConfigured();
  return components;
}

/** The URL without its password, for messages. */
function redactedUrl(url: string): string {
  const parsed = new URL(url);
  if (parsed.password !== '') parsed.password = '***';
  return parsed.toString();
}
