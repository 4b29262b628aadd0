import { Queue } from 'bullmq';
import express, { ErrorRequestHandler, Request, Response, Router } from 'express';
import { z } from 'zod';
import { requireBearerToken } from '../http/bearerAuth';
import { sendProblem, sendRetryLater } from '../http/problem';
import { requestLoggerOf } from '../http/requestContext';
import { IngestUnavailableError } from '../ingest/errors';
import { Logger } from '../logging/logger';
import { QuarantinedPayloadNotFoundError } from '../operations/errors';
import { NotFoundError, OperationRefusedError } from '../shared/CodedError';
import {
  deliveriesQuery,
  failedJobsQuery,
  jobId,
  newSubscriptionBody,
  parseInput,
  paymentTarget,
  quarantineId,
  quarantineQuery,
  replayBody,
  retryFilterBody,
  rotateSecretBody,
  subscriptionChangesBody,
  subscriptionId,
} from '../operations/operationInputs';
import { Operations } from '../operations/Operations';
import { jsonText } from '../shared/jsonText';
import { adminOpenApiDocument } from './adminOpenApiDocument';
import { bullBoardRouter } from './bullBoardRouter';

export interface AdminRouterOptions {
  /** The bearer token (ADMIN_TOKEN). */
  token: string;
  operations: Operations;
  /** The queues bull-board shows: the events queue and the reconciliation queue. */
  queues: Queue[];
  logger: Logger;
  /** Where the router is mounted, as the browser sees it (bull-board links absolutely). Default /admin. */
  mountPath?: string;
}

/**
 * The admin API, to be mounted at /admin: failed jobs, quarantined payloads, re-projection, and
 * the bull-board UI at /queues. Every route, bull-board's assets and API included, needs the bearer token.
 */
export function createAdminRouter(options: AdminRouterOptions): Router {
  const { logger } = options;
  const { failedJobs, failedJobQuarantiner, quarantineStore, quarantineReprocessor, paymentReprojector, subscriptions, subscriptionUrls } = options.operations;
  const router = Router();

  router.use(requireBearerToken(options.token));
  router.use('/queues', bullBoardRouter(options.queues, `${options.mountPath ?? '/admin'}/queues`));

  // Before /jobs/:id, which would take "failed" for an id.
  router.get('/jobs/failed', async (request, response) => {
    const query = validInput(response, failedJobsQuery, request.query);
    if (query === undefined) return;
    const jobs = await failedJobs.list(query, query.limit, query.offset);
    sendJson(response, 200, { jobs, limit: query.limit, offset: query.offset });
  });

  router.post('/jobs/failed/retry', express.json({ limit: '16kb' }), async (request, response) => {
    const filter = validInput(response, retryFilterBody, request.body ?? {});
    if (filter === undefined) return;
    const result = await failedJobs.retryMatching(filter, filter.limit);
    requestLoggerOf(response, logger).info('admin: failed jobs retried', { filter, ...result });
    sendJson(response, 200, result);
  });

  router.get('/jobs/:id', async (request, response) => {
    const id = validInput(response, jobId, request.params.id);
    if (id === undefined) return;
    sendJson(response, 200, await failedJobs.inspect(id));
  });

  router.post('/jobs/:id/retry', async (request, response) => {
    const id = validInput(response, jobId, request.params.id);
    if (id === undefined) return;
    await failedJobs.retry(id);
    requestLoggerOf(response, logger).info('admin: job retried', { jobId: id });
    sendJson(response, 200, { id, retried: true });
  });

  router.post('/jobs/:id/quarantine', async (request, response) => {
    const id = validInput(response, jobId, request.params.id);
    if (id === undefined) return;
    const result = await failedJobQuarantiner.setAside(id);
    requestLoggerOf(response, logger).info('admin: failed job set aside into quarantine', { jobId: id, eventId: result.eventId, quarantineId: result.quarantineId });
    sendJson(response, 200, { id, quarantineId: result.quarantineId });
  });

  router.get('/quarantine', async (request, response) => {
    const query = validInput(response, quarantineQuery, request.query);
    if (query === undefined) return;
    sendJson(response, 200, { items: await quarantineStore.list(query.limit, query.offset), limit: query.limit, offset: query.offset });
  });

  router.get('/quarantine/:id', async (request, response) => {
    const id = validInput(response, quarantineId, request.params.id);
    if (id === undefined) return;
    const item = await quarantineStore.get(id);
    if (item === undefined) throw new QuarantinedPayloadNotFoundError(id);
    sendJson(response, 200, item);
  });

  router.post('/quarantine/:id/reprocess', async (request, response) => {
    const id = validInput(response, quarantineId, request.params.id);
    if (id === undefined) return;
    const result = await quarantineReprocessor.reprocess(id);
    requestLoggerOf(response, logger).info('admin: quarantined payload reprocessed', result);
    sendJson(response, 200, result);
  });

  router.post('/payments/:kind/:id/reproject', async (request, response) => {
    const target = validInput(response, paymentTarget, request.params);
    if (target === undefined) return;
    const payment = await paymentReprojector.reproject(target.kind, target.id);
    requestLoggerOf(response, logger).info('admin: payment re-projected', { kind: target.kind, paymentId: target.id });
    sendJson(response, 200, payment);
  });

  const subscriptionBody = express.json({ limit: '16kb' });
  const newSubscription = newSubscriptionBody(subscriptionUrls);
  const subscriptionChanges = subscriptionChangesBody(subscriptionUrls);

  router.get('/openapi.json', (_request, response) => sendJson(response, 200, adminOpenApiDocument()));

  router.post('/subscriptions', subscriptionBody, async (request, response) => {
    const input = validInput(response, newSubscription, request.body ?? {});
    if (input === undefined) return;
    const added = await subscriptions.add(input);
    requestLoggerOf(response, logger).info('admin: push subscription added', { subscriptionId: added.subscription.id });
    sendJson(response, 201, added);
  });

  router.get('/subscriptions', async (_request, response) => {
    sendJson(response, 200, { subscriptions: await subscriptions.list() });
  });

  router.get('/subscriptions/:id', async (request, response) => {
    const id = validInput(response, subscriptionId, request.params.id);
    if (id === undefined) return;
    sendJson(response, 200, await subscriptions.find(id));
  });

  router.patch('/subscriptions/:id', subscriptionBody, async (request, response) => {
    const id = validInput(response, subscriptionId, request.params.id);
    const changes = id === undefined ? undefined : validInput(response, subscriptionChanges, request.body ?? {});
    if (id === undefined || changes === undefined) return;
    const updated = await subscriptions.update(id, changes);
    requestLoggerOf(response, logger).info('admin: push subscription changed', { subscriptionId: id, changed: Object.keys(changes) });
    sendJson(response, 200, updated);
  });

  for (const action of ['disable', 'enable'] as const) {
    router.post(`/subscriptions/:id/${action}`, async (request, response) => {
      const id = validInput(response, subscriptionId, request.params.id);
      if (id === undefined) return;
      const subscription = await subscriptions[action](id);
      requestLoggerOf(response, logger).info(`admin: push subscription ${action}d`, { subscriptionId: id });
      sendJson(response, 200, subscription);
    });
  }

  router.delete('/subscriptions/:id', async (request, response) => {
    const id = validInput(response, subscriptionId, request.params.id);
    if (id === undefined) return;
    await subscriptions.delete(id);
    requestLoggerOf(response, logger).info('admin: push subscription deleted', { subscriptionId: id });
    response.status(204).end();
  });

  router.post('/subscriptions/:id/rotate-secret', subscriptionBody, async (request, response) => {
    const id = validInput(response, subscriptionId, request.params.id);
    const input = id === undefined ? undefined : validInput(response, rotateSecretBody, request.body ?? {});
    if (id === undefined || input === undefined) return;
    const rotated = await subscriptions.rotateSecret(id, input.overlap_seconds);
    // The secret itself is never logged.
    requestLoggerOf(response, logger).info('admin: push subscription secret rotated', { subscriptionId: id, overlapSeconds: input.overlap_seconds });
    sendJson(response, 200, rotated);
  });

  router.post('/subscriptions/:id/replay', subscriptionBody, async (request, response) => {
    const id = validInput(response, subscriptionId, request.params.id);
    const input = id === undefined ? undefined : validInput(response, replayBody, request.body ?? {});
    if (id === undefined || input === undefined) return;
    const subscription = 'position' in input ? await subscriptions.replayFrom(id, input.position) : await subscriptions.replaySince(id, input.since);
    requestLoggerOf(response, logger).info('admin: push subscription replays', { subscriptionId: id, from: subscription.position });
    sendJson(response, 200, subscription);
  });

  router.get('/subscriptions/:id/deliveries', async (request, response) => {
    const id = validInput(response, subscriptionId, request.params.id);
    const query = id === undefined ? undefined : validInput(response, deliveriesQuery, request.query);
    if (id === undefined || query === undefined) return;
    sendJson(response, 200, { deliveries: await subscriptions.deliveries(id, query), limit: query.limit });
  });

  router.use(adminErrors);
  return router;
}

/** The parsed input, or undefined after answering 400. */
function validInput<T extends z.ZodType>(response: Response, schema: T, input: unknown): z.output<T> | undefined {
  const parsed = parseInput(schema, input);
  if ('value' in parsed) return parsed.value;
  sendProblem(response, 400, 'bad-request', 'Bad request', parsed.problem);
  return undefined;
}

function sendJson(response: Response, status: number, body: unknown): void {
  response.status(status).type('application/json').send(jsonText(body));
}

/** Errors this router can name; everything else goes on to the app's error handler. */
const adminErrors: ErrorRequestHandler = (error, _request: Request, response, next) => {
  if (error instanceof NotFoundError) {
    sendProblem(response, 404, 'not-found', 'Not found', error.message);
    return;
  }
  if (error instanceof OperationRefusedError) {
    sendProblem(response, 409, error.code.replace(/_/g, '-'), error.title, error.message);
    return;
  }
  if (error instanceof IngestUnavailableError) {
    sendRetryLater(response, 5, 'unavailable', 'Service unavailable', `The content could not be committed: ${error.message}`);
    return;
  }
  if (error?.type === 'entity.parse.failed') {
    sendProblem(response, 400, 'bad-request', 'Bad request', 'The body is not valid JSON.');
    return;
  }
  next(error);
};
