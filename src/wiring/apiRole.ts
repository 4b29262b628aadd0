import { Router } from 'express';
import { createAdminRouter } from '../admin/createAdminRouter';
import { ChangeCursors } from '../changes/ChangeCursors';
import { ChangeFeed } from '../changes/ChangeFeed';
import { ChangeNotifications } from '../changes/ChangeNotifications';
import { Config } from '../config/config';
import { Database } from '../database/prismaClient';
import { ReadinessCheck } from '../http/healthRoutes';
import { WebhookRouteOptions } from '../http/webhookRoute';
import { OperatorInbox } from '../inbox/OperatorInbox';
import { DeliveryReceiver } from '../ingest/DeliveryReceiver';
import { Logger } from '../logging/logger';
import { FailedJobQuarantiner } from '../operations/FailedJobQuarantiner';
import { FailedJobs } from '../operations/FailedJobs';
import { PaymentReprojector } from '../operations/PaymentReprojector';
import { QuarantineReprocessor } from '../operations/QuarantineReprocessor';
import { ProjectionStore } from '../projection/ProjectionStore';
import { QuarantineStore } from '../quarantine/QuarantineStore';
import { ProjectionJobs } from '../queue/ProjectionJobs';
import { createReadApiRouter } from '../readApi/createReadApiRouter';
import { PaymentReader } from '../readApi/PaymentReader';
import { openDeliveryReceiver } from './deliveryReceiver';
import { openReconciliationQueue } from './infrastructure';
import { OpenResources } from './OpenResources';
import { ServiceInfrastructure } from './serviceInfrastructure';
import { openVerificationKeys } from './verificationKeys';

/** What the api role adds to the service's HTTP app. */
export interface ApiRole {
  webhook: Omit<WebhookRouteOptions, 'logger' | 'metrics'>;
  /** The admin API (/admin) and the read API (/), each on when its token is set. */
  routers: Array<[mountPath: string, router: Router]>;
  readinessChecks: ReadinessCheck[];
}

/**
 * The api role: the webhook endpoint (its keys, signature settings and the receive use case), and
 * the admin and read APIs when their tokens are set. They are on the HTTP port, where the Helm
 * ingress exposes only the webhook path.
 */
export function wireApi(config: Config, logger: Logger, infrastructure: ServiceInfrastructure): ApiRole {
  const { database, events, upvestApi, metrics, resources } = infrastructure;
  const keys = openVerificationKeys(config, upvestApi, resources, logger);
  const receiver = openDeliveryReceiver({
    pool: database.pool,
    events,
    timeoutMs: config.ingest.timeoutMs,
    resources,
    logger,
    metrics: metrics.ingest,
    onJobNotQueued: () => metrics.dependencyErrors.dependencyError('redis'),
  });
  const routers: Array<[string, Router]> = [];
  if (config.adminToken !== undefined) routers.push(['/admin', wireAdminRouter(config.adminToken, config.redis, logger, { database, events, receiver, resources })]);
  if (config.readApiToken !== undefined) routers.push(['/', wireReadApiRouter(config.readApiToken, config.database.url, logger, database, resources)]);
  return {
    webhook: {
      path: config.webhook.path,
      bodyLimitBytes: config.webhook.bodyLimitBytes,
      publicUrl: config.webhook.publicUrl,
      retryAfterSeconds: config.ingest.retryAfterSeconds,
      verification: { keyLookup: keys.keyLookup, ...config.signature },
      receiver,
    },
    routers,
    readinessChecks: keys.readiness === undefined ? [] : [keys.readiness],
  };
}

/** What the admin API's operations are built on. */
export interface AdminSetup {
  database: Database;
  events: ProjectionJobs;
  /** The receive use case, for quarantine reprocessing. */
  receiver: DeliveryReceiver;
  resources: OpenResources;
}

/** The admin API behind ADMIN_TOKEN (`token`): every operation, and bull-board over the events and reconciliation queues. */
export function wireAdminRouter(token: string, redis: Config['redis'], logger: Logger, setup: AdminSetup): Router {
  const { database, events, receiver, resources } = setup;
  const inbox = new OperatorInbox(database.pool);
  const quarantineStore = new QuarantineStore(database.prisma);
  const operations = {
    failedJobs: new FailedJobs(events.queue, inbox),
    failedJobQuarantiner: new FailedJobQuarantiner(events.queue, inbox, quarantineStore),
    quarantineStore,
    quarantineReprocessor: new QuarantineReprocessor(quarantineStore, receiver),
    paymentReprojector: new PaymentReprojector(new ProjectionStore(database.prisma), new PaymentReader(database.prisma)),
  };
  // bull-board only reads the reconciliation queue and retries its runs: the events queue's connection serves.
  const reconciliationQueue = openReconciliationQueue(redis, events.connection, resources, logger);
  return createAdminRouter({ token, operations, queues: [events.queue, reconciliationQueue], logger });
}

/**
 * The read API behind READ_API_TOKEN (`token`, which also signs the feed's cursors): the status
 * tables, and the change feed with its wake-ups, which listen on a connection of their own.
 */
export function wireReadApiRouter(token: string, databaseUrl: string, logger: Logger, database: Database, resources: OpenResources): Router {
  const notifications = new ChangeNotifications(databaseUrl, logger);
  void notifications.start();
  resources.add('change notifications', notifications, (started) => started.stop());
  return createReadApiRouter({
    token,
    reader: new PaymentReader(database.prisma),
    changes: { feed: new ChangeFeed(database.pool), cursors: new ChangeCursors(token), notifications },
    logger,
  });
}
