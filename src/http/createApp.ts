import express, { ErrorRequestHandler, Express } from 'express';
import { Logger } from '../logging/logger';
import { healthRoutes, ReadinessCheck } from './healthRoutes';
import { sendProblem } from './problem';
import { assignRequestId, requestIdOf } from './requestId';
import { webhookRoute, WebhookRouteOptions } from './webhookRoute';

export interface AppOptions {
  logger: Logger;
  readinessChecks: ReadinessCheck[];
  /** Absent in the worker role, which serves only the health endpoints. */
  webhook?: Omit<WebhookRouteOptions, 'logger'>;
}

/** The Express app, without a listening server, so that tests can drive it with supertest. */
export function createApp(options: AppOptions): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);
  app.locals.shuttingDown = false;
  // Once shutdown began, every answer closes its connection: a keep-alive connection that keeps
  // carrying requests would otherwise hold server.close() open until the shutdown timeout.
  app.use((request, response, next) => {
    if (request.app.locals.shuttingDown) response.setHeader('Connection', 'close');
    next();
  });
  app.use(assignRequestId);
  app.use(healthRoutes(options.readinessChecks));
  if (options.webhook) app.use(webhookRoute({ ...options.webhook, logger: options.logger }));
  app.use((_request, response) => sendProblem(response, 404, 'not-found', 'Not found', 'No such endpoint.'));
  app.use(errorHandler(options.logger));
  return app;
}

function errorHandler(logger: Logger): ErrorRequestHandler {
  return (error, _request, response, _next) => {
    const requestId = requestIdOf(response);
    if (error?.type === 'entity.too.large') {
      logger.warn('webhook body too large', { requestId, limit: error.limit, length: error.length });
      sendProblem(response, 413, 'body-too-large', 'Payload too large', `The body exceeds the limit of ${error.limit} bytes.`);
      return;
    }
    if (typeof error?.status === 'number' && error.status >= 400 && error.status < 500) {
      sendProblem(response, error.status, 'bad-request', 'Bad request', String(error.message));
      return;
    }
    logger.error('request failed', { requestId, error: error instanceof Error ? error.stack : String(error) });
    sendProblem(response, 500, 'internal-error', 'Internal error', 'The request could not be processed.');
  };
}
