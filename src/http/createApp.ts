import express, { Express, Router } from 'express';
import { Logger } from '../logging/logger';
import { MetricsRegistry } from '../metrics/MetricsRegistry';
import { sendMetrics } from '../metrics/metricsServer';
import { healthRoutes, ReadinessCheck } from './healthRoutes';
import { HttpInstruments } from './httpMetrics';
import { sendProblem } from './problem';
import { problemErrorHandler } from './problemErrorHandler';
import { requestContext, RequestContextOptions } from './requestContext';
import { mountWebhookRoute, WebhookRouteOptions } from './webhookRoute';

export interface AppOptions {
  logger: Logger;
  readinessChecks: ReadinessCheck[];
  /** Absent in the worker role, which serves only the health endpoints. */
  webhook?: Omit<WebhookRouteOptions, 'logger' | 'metrics'>;
  /** Times every request and counts refused signatures; absent in tests that need no metrics. */
  metrics?: HttpInstruments;
  /** Serves GET <path> from this registry on the app: METRICS_PORT=0. Absent when the metrics have a server of their own. */
  metricsEndpoint?: { path: string; registry: MetricsRegistry };
  /** More routers, by mount path: the admin API (/admin) and the read API (/), each behind its own token. */
  routers?: Array<[mountPath: string, router: Router]>;
}

/** The Express app, without a listening server, so that tests can drive it with supertest. */
export function createApp(options: AppOptions): Express {
  const app = express();
  app.disable('x-powered-by');
  // No answer here is cached by a client: hashing every body for an ETag would be work for nothing.
  app.set('etag', false);
  app.set('trust proxy', false);
  // Once shutdown began, every answer closes its connection (see beginRequest).
  app.locals.shuttingDown = false;
  const { metrics } = options;
  const requests: RequestContextOptions = { logger: options.logger, onRequestFinished: metrics?.httpRequest.bind(metrics) };
  // First, and beginning its requests itself: deliveries are most of the traffic, and each layer in front of a route costs every request.
  if (options.webhook) mountWebhookRoute(app, { ...options.webhook, logger: options.logger, metrics }, requests);
  app.use(requestContext(requests));
  app.use(healthRoutes(options.readinessChecks));
  const { metricsEndpoint } = options;
  if (metricsEndpoint !== undefined) {
    app.get(metricsEndpoint.path, (_request, response) => sendMetrics(metricsEndpoint.registry, response, options.logger));
  }
  for (const [mountPath, router] of options.routers ?? []) app.use(mountPath, router);
  app.use((_request, response) => sendProblem(response, 404, 'not-found', 'Not found', 'No such endpoint.'));
  app.use(problemErrorHandler(options.logger));
  return app;
}
