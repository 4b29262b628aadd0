import { once } from 'node:events';
import { Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { Queue } from 'bullmq';
import express, { ErrorRequestHandler, Express } from 'express';
import { loadConfig } from '../../src/config/config';
import { createLogger } from '../../src/logging/logger';
import { SubscriptionUrlPolicy } from '../../src/push/SubscriptionUrlPolicy';
import { wireAdminRouter } from '../../src/wiring/adminRouter';
import { openDeliveryReceiver } from '../../src/wiring/deliveryReceiver';
import { COMMAND_POOL_SIZE, openDatabase, openReadyEventsQueue } from '../../src/wiring/infrastructure';
import { OpenResources } from '../../src/wiring/OpenResources';
import { subscriptionUrlPolicyOf } from '../../src/wiring/subscriptionUrlPolicy';
import { batchOf, ProviderEvent, withdrawalEvent } from '../../testkit/paymentEvents';
import { refuseAmount666 } from '../support/refusedAmount';
import { eventually, startTestService, TestService } from '../support/testService';

export { refuseAmount666 };

export const ADMIN_TOKEN = 'admin-token-for-tests-0123456789';
export const AUTHORIZED = { Authorization: `Bearer ${ADMIN_TOKEN}` };

export interface AdminHarness {
  harness: TestService;
  /** An app with only the admin router, at /admin. */
  app: Express;
  /** Another such app, on the same database, whose subscriptions may be given only the URLs this policy allows. */
  adminApp(subscriptionUrls: SubscriptionUrlPolicy): Express;
  eventsQueue: Queue;
  /** The CLI's environment for the same database and Redis prefix: no Upvest API credentials. */
  cliEnvironment: Record<string, string>;
  /** Serves `app` on a free port; closed by stop(). */
  listen(): Promise<string>;
  stop(): Promise<void>;
}

/** A running service (API and worker) plus the admin router on its database and queue, wired as the api role wires it. */
export async function startAdminHarness(): Promise<AdminHarness> {
  const harness = await startTestService();
  const cliEnvironment = { DATABASE_URL: harness.database.url, REDIS_PREFIX: harness.redisPrefix, MIGRATE_ON_START: 'false' };
  const logger = createLogger('error', true);
  const config = loadConfig(cliEnvironment);
  // Only what the admin router is built on: the api role would verify keys and watch queues too.
  const resources = new OpenResources(logger);
  const database = openDatabase(config.database.url, COMMAND_POOL_SIZE, resources);
  const events = await openReadyEventsQueue(config, resources, logger);
  const receiver = openDeliveryReceiver({ pool: database.pool, events, timeoutMs: config.ingest.timeoutMs, resources, logger });
  const eventsQueue = events.queue;
  const adminApp = (subscriptionUrls: SubscriptionUrlPolicy) => {
    const app = express();
    app.use('/admin', wireAdminRouter(ADMIN_TOKEN, config.redis, logger, { database, events, receiver, resources, subscriptionUrls }));
    const failLoudly: ErrorRequestHandler = (error, _request, response, _next) => {
      response.status(500).json({ error: String(error?.stack ?? error) });
    };
    return app.use(failLoudly);
  };
  const app = adminApp(subscriptionUrlPolicyOf(config));
  let server: Server | undefined;
  return {
    harness,
    app,
    adminApp,
    eventsQueue,
    cliEnvironment,
    async listen() {
      server = app.listen(0, '127.0.0.1');
      await once(server, 'listening');
      return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    },
    async stop() {
      if (server !== undefined) {
        server.closeAllConnections();
        await new Promise((resolve) => server?.close(resolve));
      }
      await resources.closeAll();
      await harness.stop();
    },
  };
}

/** Delivers a withdrawal of 666.00 while its table refuses that amount, and waits until its job has failed. Returns the fix. */
export async function failedWithdrawalJob(admin: AdminHarness, event: ProviderEvent): Promise<() => Promise<void>> {
  const allow = await refuseAmount666(admin.harness, 'withdrawals');
  await admin.harness.deliver(batchOf(event));
  await waitForFailedJobs(admin.eventsQueue, [event.id]);
  return allow;
}

export async function failedJobIds(queue: Queue): Promise<string[]> {
  return (await queue.getFailed()).map((job) => job.id as string).sort();
}

/** Waits until exactly these jobs are in the failed set. */
export async function waitForFailedJobs(queue: Queue, ids: string[]): Promise<void> {
  const expected = [...ids].sort().join(',');
  await eventually(async () => (await failedJobIds(queue)).join(',') === expected, 15000, `failed jobs ${expected}`);
}

/** Delivers a withdrawal's NEW, PROCESSING and CONFIRMED events and waits until its row is CONFIRMED. */
export async function confirmedWithdrawal(harness: TestService, paymentId: string): Promise<void> {
  const events = (['NEW', 'PROCESSING', 'CONFIRMED'] as const).map((status, index) =>
    withdrawalEvent({ paymentId, status, createdAt: `2021-07-21T14:1${index}:00Z`, object: { amount: `1${index}.00` } }),
  );
  await harness.deliver(batchOf(...events));
  await eventually(async () => (await harness.prisma.withdrawal.findUnique({ where: { id: paymentId } }))?.status === 'CONFIRMED');
}

/** Overwrites a payment's content in quarantine: what an operator does to fix it by hand. */
export async function replaceQuarantinedContent(harness: TestService, id: bigint, content: string): Promise<void> {
  await harness.prisma.quarantinedPayload.update({ where: { id }, data: { content: new Uint8Array(Buffer.from(content)) } });
}

/** Waits for the quarantined row of an event id or a content hash, as the worker files it. */
export async function quarantinedIdOf(harness: TestService, where: { eventId?: string; contentSha256?: string }): Promise<bigint> {
  const row = await eventually(async () => harness.prisma.quarantinedPayload.findFirst({ where }), 15000, 'quarantined row');
  return row.id;
}
