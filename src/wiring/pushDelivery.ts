import { ChangeNotifications } from '../changes/ChangeNotifications';
import { Config } from '../config/config';
import { Database } from '../database/Database';
import { Logger } from '../logging/logger';
import { PushDeliveryStore } from '../push/PushDeliveryStore';
import { PushDispatcher } from '../push/PushDispatcher';
import { PushDispatchStore } from '../push/PushDispatchStore';
import { PushMetrics } from '../push/pushMetrics';
import { SubscriberEndpoint } from '../push/SubscriberEndpoint';
import { SubscriptionLane } from '../push/SubscriptionLane';
import { subscriptionUrlPolicyOf } from './subscriptionUrlPolicy';

/** The push, started: stop() lets the attempts in flight end and records them. */
export interface PushDelivery {
  stop(): Promise<void>;
}

/**
 * Starts the push of status changes to the subscriptions (a part of the worker role): the
 * dispatcher, woken by the projection's NOTIFY on a connection of its own, and a lane per
 * enabled subscription.
 */
export async function startPushDelivery(config: Config, logger: Logger, database: Database, metrics: PushMetrics): Promise<PushDelivery> {
  const { push } = config;
  const urls = subscriptionUrlPolicyOf(config);
  const deliveryStore = new PushDeliveryStore(database.pool);
  const newLane = (subscription: { id: string; url: string }) =>
    new SubscriptionLane(
      subscription.id,
      new SubscriberEndpoint(subscription.url, {
        urls,
        connectTimeoutMs: push.connectTimeoutMs,
        timeoutMs: push.timeoutMs,
        maxSockets: push.concurrencyPerSubscription,
      }),
      deliveryStore,
      metrics,
      logger,
      { concurrency: push.concurrencyPerSubscription, timeoutMs: push.timeoutMs, pollIntervalMs: push.pollIntervalMs, failingAfterHours: push.failingAfterHours },
    );
  const notifications = new ChangeNotifications(config.database.url, logger);
  await notifications.start();
  const dispatcher = new PushDispatcher(new PushDispatchStore(database.pool), notifications, newLane, logger, {
    pollIntervalMs: push.pollIntervalMs,
    keepDeliveredDays: push.keepDeliveredDays,
  });
  dispatcher.start();
  return {
    async stop() {
      await dispatcher.stop();
      await notifications.stop();
    },
  };
}
