import { Router } from 'express';
import { createAdminRouter } from '../admin/createAdminRouter';
import { Config } from '../config/config';
import { Database } from '../database/Database';
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
import { PushSubscriptions } from '../push/PushSubscriptions';
import { SubscriptionUrlPolicy } from '../push/SubscriptionUrlPolicy';
import { PaymentReader } from '../readApi/PaymentReader';
import { openReconciliationQueue } from './infrastructure';
import { OpenResources } from './OpenResources';

/** What the admin API's operations are built on. */
export interface AdminSetup {
  database: Database;
  events: ProjectionJobs;
  /** The receive use case, for quarantine reprocessing. */
  receiver: DeliveryReceiver;
  /** Which URLs a push subscription may be given. */
  subscriptionUrls: SubscriptionUrlPolicy;
  resources: OpenResources;
}

/** The admin API behind ADMIN_TOKEN (`token`): every operation, and bull-board over the events and reconciliation queues. */
export function wireAdminRouter(token: string, redis: Config['redis'], logger: Logger, setup: AdminSetup): Router {
  const { database, events, receiver, resources, subscriptionUrls } = setup;
  const inbox = new OperatorInbox(database.pool);
  const quarantineStore = new QuarantineStore(database.prisma);
  const operations = {
    failedJobs: new FailedJobs(events.queue, inbox),
    failedJobQuarantiner: new FailedJobQuarantiner(events.queue, inbox, quarantineStore),
    quarantineStore,
    quarantineReprocessor: new QuarantineReprocessor(quarantineStore, receiver),
    paymentReprojector: new PaymentReprojector(new ProjectionStore(database.prisma), new PaymentReader(database.prisma)),
    subscriptions: new PushSubscriptions(database.pool),
    subscriptionUrls,
  };
  // bull-board only reads the reconciliation queue and retries its runs: the events queue's connection serves.
  const reconciliationQueue = openReconciliationQueue(redis, events.connection, resources, logger);
  return createAdminRouter({ token, operations, queues: [events.queue, reconciliationQueue], logger });
}
