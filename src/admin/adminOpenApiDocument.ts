import { z } from 'zod';
import { PAYMENT_KINDS, PAYMENT_STATUSES } from '../events/upvestEvents';
import {
  deliveriesQuery,
  failedJobsQuery,
  newSubscriptionBody,
  quarantineQuery,
  replayBody,
  retryFilterBody,
  rotateSecretBody,
  subscriptionChangesBody,
} from '../operations/operationInputs';
import { SubscriptionUrlPolicy } from '../push/SubscriptionUrlPolicy';
import { SUBSCRIPTION_STATES } from '../push/subscription';
import { TargetAllowList } from '../push/targetAddresses';

// The admin API's OpenAPI document. The request schemas are generated from the zod schemas the
// routes validate with (operationInputs.ts), so they cannot drift; the test checks that every
// route of the router is here.

/** For the shape of the bodies only: the URL policy's refusals depend on the configuration. */
const ANY_URL = new SubscriptionUrlPolicy(true, new TargetAllowList([]));

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: object) => ({ content: { 'application/json': { schema } } });
const inputSchema = (schema: z.ZodType) => {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  return rest;
};
const body = (schema: z.ZodType) => ({ required: true, ...json(inputSchema(schema)) });

/** Query parameters from a zod object schema. */
function queryParameters(schema: z.ZodObject): object[] {
  const { properties = {} } = inputSchema(schema) as { properties?: Record<string, object> };
  return Object.entries(properties).map(([name, property]) => ({ name, in: 'query', required: false, schema: property }));
}

const idParameter = (description: string, schema: object = { type: 'string' }) => ({ name: 'id', in: 'path', required: true, description, schema });
const subscriptionIdParameter = idParameter('The subscription id.', { type: 'string', format: 'uuid' });

const problems = {
  '400': { description: 'Invalid input.', content: { 'application/problem+json': { schema: ref('Problem') } } },
  '401': { description: 'No or wrong bearer token.', content: { 'application/problem+json': { schema: ref('Problem') } } },
};
const notFound = { '404': { description: 'No such target.', content: { 'application/problem+json': { schema: ref('Problem') } } } };
const refused = { '409': { description: 'The operation does not apply to the target as it stands.', content: { 'application/problem+json': { schema: ref('Problem') } } } };

const ok = (description: string, schema: object = { type: 'object' }) => ({ '200': { description, ...json(schema) } });

const operation = (summary: string, responses: object, extra: object = {}) => ({ summary, ...extra, responses: { ...responses, ...problems } });

const NULLABLE_TIMESTAMP = { type: ['string', 'null'], format: 'date-time' };
const POSITION = { type: 'string', pattern: '^[0-9]+\\.[0-9]+$', description: '`<transaction>.<id>` in the change feed.' };

const SUBSCRIPTION = {
  type: 'object',
  properties: {
    id: { type: 'string', format: 'uuid' },
    url: { type: 'string', format: 'uri' },
    description: { type: 'string' },
    payment_kinds: { type: ['array', 'null'], items: { enum: [...PAYMENT_KINDS] }, description: 'Null: every kind.' },
    statuses: { type: ['array', 'null'], items: { enum: [...PAYMENT_STATUSES] }, description: 'Null: every status the change led to.' },
    state: { enum: [...SUBSCRIPTION_STATES] },
    failing_since: NULLABLE_TIMESTAMP,
    position: { ...POSITION, description: 'Every matching change up to here was answered 2xx.' },
    dispatched: { ...POSITION, description: 'How far the changes were taken into the deliveries.' },
    previous_secret_expires_at: { ...NULLABLE_TIMESTAMP, description: 'Until when the previous secret signs too.' },
    undelivered: { type: 'integer' },
    oldest_undelivered_recorded_at: NULLABLE_TIMESTAMP,
    created_at: { type: 'string', format: 'date-time' },
    updated_at: { type: 'string', format: 'date-time' },
  },
};

const WITH_SECRET = {
  type: 'object',
  properties: { subscription: ref('Subscription'), secret: { type: 'string', pattern: '^whsec_', description: 'Shown this once.' } },
};

const DELIVERY = {
  type: 'object',
  properties: {
    history_id: { type: 'string' },
    event_id: { type: 'string', format: 'uuid', description: 'The webhook-id of the message.' },
    payment_kind: { enum: [...PAYMENT_KINDS] },
    payment_id: { type: 'string', format: 'uuid' },
    status: { enum: [...PAYMENT_STATUSES] },
    recorded_at: { type: 'string', format: 'date-time' },
    attempts: { type: 'integer' },
    first_attempt_at: NULLABLE_TIMESTAMP,
    last_attempt_at: NULLABLE_TIMESTAMP,
    next_attempt_at: { ...NULLABLE_TIMESTAMP, description: 'Null once delivered; while in flight, the end of the attempt\'s lease.' },
    in_flight: { type: 'boolean', description: 'Being sent now: its outcome is not recorded yet.' },
    last_response_code: { type: ['integer', 'null'] },
    last_error: { type: ['string', 'null'], description: 'The reason (upvest_push_failures_total) and the start of the answer.' },
    delivered_at: NULLABLE_TIMESTAMP,
  },
};

const PATHS = {
  '/admin/openapi.json': { get: operation('This document', ok('The admin API in OpenAPI 3.1.')) },
  '/admin/jobs/failed': { get: operation("The events queue's failed jobs, newest first", ok('A page of jobs.'), { parameters: queryParameters(failedJobsQuery) }) },
  '/admin/jobs/failed/retry': { post: operation('Retries the failed jobs that match', ok('How many were retried.'), { requestBody: body(retryFilterBody) }) },
  '/admin/jobs/{id}': { get: operation('One job, with its data and its event as received', { ...ok('The job.'), ...notFound }, { parameters: [idParameter('The job id.')] }) },
  '/admin/jobs/{id}/retry': { post: operation('Retries a failed job', { ...ok('Retried.'), ...notFound, ...refused }, { parameters: [idParameter('The job id.')] }) },
  '/admin/jobs/{id}/quarantine': {
    post: operation('Sets the event of a failed job aside into quarantine', { ...ok('Set aside.'), ...notFound, ...refused }, { parameters: [idParameter('The job id.')] }),
  },
  '/admin/quarantine': { get: operation('Quarantined payloads, newest first', ok('A page.'), { parameters: queryParameters(quarantineQuery) }) },
  '/admin/quarantine/{id}': { get: operation('One quarantined payload with its content', { ...ok('The payload.'), ...notFound }, { parameters: [idParameter('The payload id.')] }) },
  '/admin/quarantine/{id}/reprocess': {
    post: operation('Runs the content through the ingest again', { ...ok('The counts of the run.'), ...notFound }, { parameters: [idParameter('The payload id.')] }),
  },
  '/admin/payments/{kind}/{id}/reproject': {
    post: operation("Rebuilds a payment's row from its events", { ...ok('The payment.'), ...notFound }, {
      parameters: [{ name: 'kind', in: 'path', required: true, schema: { enum: ['withdrawals', 'direct-debits'] } }, idParameter('The payment id.')],
    }),
  },
  '/admin/subscriptions': {
    get: operation('Every push subscription', ok('The subscriptions.', { type: 'object', properties: { subscriptions: { type: 'array', items: ref('Subscription') } } })),
    post: operation('Adds a subscription; it is sent the changes recorded from now on', { '201': { description: 'The subscription and its secret, shown this once.', ...json(ref('SubscriptionWithSecret')) } }, {
      requestBody: body(newSubscriptionBody(ANY_URL)),
    }),
  },
  '/admin/subscriptions/{id}': {
    get: operation('One subscription', { ...ok('The subscription.', ref('Subscription')), ...notFound }, { parameters: [subscriptionIdParameter] }),
    patch: operation('Changes the URL, the description or the filters', { ...ok('The subscription.', ref('Subscription')), ...notFound }, {
      parameters: [subscriptionIdParameter],
      requestBody: body(subscriptionChangesBody(ANY_URL)),
    }),
    delete: operation('Deletes the subscription and its deliveries', { '204': { description: 'Deleted.' }, ...notFound }, { parameters: [subscriptionIdParameter] }),
  },
  '/admin/subscriptions/{id}/disable': {
    post: operation('Stops sending; the changes keep coming once enabled', { ...ok('The subscription.', ref('Subscription')), ...notFound }, { parameters: [subscriptionIdParameter] }),
  },
  '/admin/subscriptions/{id}/enable': {
    post: operation('Sends again (and clears a failing state)', { ...ok('The subscription.', ref('Subscription')), ...notFound }, { parameters: [subscriptionIdParameter] }),
  },
  '/admin/subscriptions/{id}/rotate-secret': {
    post: operation('A new signing secret; the previous one signs too during the overlap', { ...ok('The subscription and its new secret, shown this once.', ref('SubscriptionWithSecret')), ...notFound }, {
      parameters: [subscriptionIdParameter],
      requestBody: { required: false, ...json(inputSchema(rotateSecretBody)) },
    }),
  },
  '/admin/subscriptions/{id}/replay': {
    post: operation('Sends every matching change after a position, or since a time, again', { ...ok('The subscription.', ref('Subscription')), ...notFound, ...refused }, {
      parameters: [subscriptionIdParameter],
      requestBody: body(replayBody),
    }),
  },
  '/admin/subscriptions/{id}/deliveries': {
    get: operation("The subscription's deliveries and their attempts, newest change first", {
      ...ok('The deliveries.', { type: 'object', properties: { deliveries: { type: 'array', items: ref('Delivery') }, limit: { type: 'integer' } } }),
      ...notFound,
    }, { parameters: [subscriptionIdParameter, ...queryParameters(deliveriesQuery)] }),
  },
};

/** The admin API in OpenAPI 3.1 (served at GET /admin/openapi.json). */
export function adminOpenApiDocument(): object {
  return {
    openapi: '3.1.0',
    info: {
      title: 'Upvest webhook receiver: admin API',
      version: '1',
      description: 'Failed jobs, quarantine, re-projection and push subscriptions (docs/operations.md, docs/push.md). bull-board is served under /admin/queues.',
    },
    security: [{ adminToken: [] }],
    paths: PATHS,
    components: {
      securitySchemes: { adminToken: { type: 'http', scheme: 'bearer', description: 'ADMIN_TOKEN' } },
      schemas: {
        Subscription: SUBSCRIPTION,
        SubscriptionWithSecret: WITH_SECRET,
        Delivery: DELIVERY,
        Problem: { type: 'object', properties: { type: { type: 'string' }, title: { type: 'string' }, status: { type: 'integer' }, detail: { type: 'string' } } },
      },
    },
  };
}
