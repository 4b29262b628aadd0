import { Router } from 'express';
import { Config } from '../config/config';
import { ReadinessCheck } from '../http/healthRoutes';
import { WebhookRouteOptions } from '../http/webhookRoute';
import { Logger } from '../logging/logger';
import { openDeliveryReceiver } from './deliveryReceiver';
import { ServiceInfrastructure } from './serviceInfrastructure';
import { openVerificationKeys } from './verificationKeys';
import { subscriptionUrlPolicyOf } from './subscriptionUrlPolicy';

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
export async function wireApi(config: Config, logger: Logger, infrastructure: ServiceInfrastructure): Promise<ApiRole> {
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
  // Their modules (bull-board, the operations, the read API, Prisma) are loaded only where a token turns them on.
  if (config.adminToken !== undefined) {
    const { wireAdminRouter } = await import('./adminRouter');
    routers.push(['/admin', wireAdminRouter(config.adminToken, config.redis, logger, { database, events, receiver, resources, subscriptionUrls: subscriptionUrlPolicyOf(config) })]);
  }
  if (config.readApiToken !== undefined) {
    const { wireReadApiRouter } = await import('./readApiRouter');
    routers.push(['/', wireReadApiRouter(config.readApiToken, config.database.url, logger, database, resources)]);
  }
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
