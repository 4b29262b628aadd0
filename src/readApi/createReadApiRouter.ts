import { Router } from 'express';
import { problemErrorHandler } from '../http/problemErrorHandler';
import { Logger } from '../logging/logger';
import { requireBearerToken } from '../http/bearerAuth';
import { OPENAPI_DOCUMENT } from './openApiDocument';
import { changeRoutes, ChangeRoutesOptions } from './changeRoutes';
import { PaymentReader } from './PaymentReader';
import { PAYMENT_RESOURCES } from '../changes/paymentResources';
import { paymentRoutes } from './paymentRoutes';

export interface ReadApiOptions {
  /** READ_API_TOKEN; the API is mounted only when it is set. */
  token: string;
  reader: PaymentReader;
  changes: ChangeRoutesOptions;
  logger?: Logger;
}

const OPENAPI_JSON = JSON.stringify(OPENAPI_DOCUMENT);

/**
 * The read API over the status tables, under /v1. The OpenAPI document needs no token: it
 * describes shapes, holds no data, and tools fetch it without credentials. Everything else does.
 */
export function createReadApiRouter(options: ReadApiOptions): Router {
  const router = Router();
  router.get('/v1/openapi.json', (_request, response) => {
    response.type('application/json').send(OPENAPI_JSON);
  });
  // Scoped to /v1 so that the router can sit at the app root without guarding the webhook route.
  router.use('/v1', requireBearerToken(options.token));
  for (const resource of PAYMENT_RESOURCES) router.use(paymentRoutes(resource, options.reader));
  router.use(changeRoutes(options.changes));
  // Scoped, and here rather than left to the app: problem+json in any app the router sits in, while
  // errors of the app's other routes keep reaching the app's own handler.
  router.use('/v1', problemErrorHandler(options.logger, 'read API request failed'));
  return router;
}
