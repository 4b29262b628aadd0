import { PAYMENT_KINDS, PAYMENT_STATUSES } from '../events/upvestEvents';
import { MAX_WAIT_SECONDS } from './changeRoutes';
import { Field, HISTORY_FIELDS, PAYMENT_RESOURCES, PaymentResource } from '../changes/paymentResources';
import { DEFAULT_LIMIT, MAX_LIMIT } from './readApiParameters';

// A TypeScript module rather than a .json file: tsc emits it with the rest, nothing has to copy it.

const ref = (kind: 'schemas' | 'parameters' | 'responses', name: string) => ({ $ref: `#/components/${kind}/${name}` });

function objectSchema(fields: Field[], extra: Record<string, unknown> = {}): Record<string, unknown> {
  const properties = { ...Object.fromEntries(fields.map(({ name, schema }) => [name, schema])), ...extra };
  return { type: 'object', required: Object.keys(properties), properties, additionalProperties: false };
}

const json = (schema: object) => ({ content: { 'application/json': { schema } } });
const problem = (description: string) => ({ description, content: { 'application/problem+json': { schema: ref('schemas', 'Problem') } } });

function paymentPaths(resource: PaymentResource): Record<string, object> {
  const nouns = `${resource.noun}s`;
  const tags = [resource.schemaName];
  return {
    [`/v1/${resource.path}`]: {
      get: {
        operationId: `list${resource.schemaName}s`,
        tags,
        summary: `List ${nouns}`,
        description: 'Filters combine with AND. Ordered by `projected_at`, then `id`, so that pages are stable.',
        parameters: ['user_id', 'account_group_id', 'status', 'updated_since', 'limit', 'offset'].map((name) => ref('parameters', name)),
        responses: {
          '200': { description: `A page of ${nouns}.`, ...json(ref('schemas', `${resource.schemaName}List`)) },
          '400': ref('responses', 'BadRequest'),
          '401': ref('responses', 'Unauthorized'),
          '500': ref('responses', 'InternalError'),
        },
      },
    },
    [`/v1/${resource.path}/{id}`]: {
      get: {
        operationId: `get${resource.schemaName}`,
        tags,
        summary: `One ${resource.noun}, with its status history`,
        parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } }],
        responses: {
          '200': { description: `The ${resource.noun} and every event applied to it.`, ...json(ref('schemas', `${resource.schemaName}WithHistory`)) },
          '400': ref('responses', 'BadRequest'),
          '401': ref('responses', 'Unauthorized'),
          '404': problem('No payment of this kind has this id.'),
          '500': ref('responses', 'InternalError'),
        },
      },
    },
  };
}

function paymentSchemas(resource: PaymentResource): Record<string, object> {
  const name = resource.schemaName;
  return {
    [name]: objectSchema(resource.fields),
    [`${name}WithHistory`]: objectSchema(resource.fields, {
      history: { type: 'array', description: 'Oldest event first (event_created_at, then arrival).', items: ref('schemas', 'StatusHistoryEntry') },
    }),
    [`${name}List`]: {
      type: 'object',
      required: ['meta', 'data'],
      properties: { meta: ref('schemas', 'ListMeta'), data: { type: 'array', items: ref('schemas', name) } },
      additionalProperties: false,
    },
  };
}

const integerSchema = { type: 'integer', minimum: 0 };
const queryUuid = (name: string, description: string) => ({ name, in: 'query', required: false, description, schema: { type: 'string', format: 'uuid' } });

export const OPENAPI_DOCUMENT = {
  openapi: '3.1.0',
  info: {
    title: 'Upvest webhook receiver: read API',
    version: '1',
    description:
      'The withdrawals and direct debits this service projected from Upvest events, read-only. Field names, money as decimal strings and the ' +
      'list `meta` follow the provider. Timestamps are RFC 3339 in UTC with microseconds. Unknown query parameters are refused with 400.',
  },
  security: [{ bearerAuth: [] }],
  paths: {
    '/v1/openapi.json': {
      get: {
        operationId: 'getOpenApiDocument',
        summary: 'This document',
        security: [],
        responses: { '200': { description: 'The OpenAPI document.', ...json({ type: 'object' }) } },
      },
    },
    ...Object.assign({}, ...PAYMENT_RESOURCES.map(paymentPaths)),
    '/v1/changes': {
      get: {
        operationId: 'listChanges',
        tags: ['Changes'],
        summary: 'Status changes of every payment, each exactly once',
        description:
          'The status changes of withdrawals and direct debits in a stable order, from the position in `after` (an opaque cursor from ' +
          'an earlier answer). No change is skipped and none is returned twice across consecutive calls, however many projection ' +
          'transactions commit concurrently and in whatever order: a change is returned only once every transaction that began before it ' +
          'has ended. Without `after`, the feed starts at its beginning, or at `from`. With `wait`, an empty answer waits up to that many ' +
          'seconds and returns as soon as a change is committed; when the wait ends, it answers an empty page with the same cursor.',
        parameters: [
          { name: 'after', in: 'query', required: false, description: 'The `next` of an earlier answer.', schema: { type: 'string' } },
          {
            name: 'from',
            in: 'query',
            required: false,
            description: 'Where to start without a cursor: `now` (changes from now on) or a date-time (changes recorded since, and possibly a few before).',
            schema: { type: 'string' },
          },
          ref('parameters', 'limit'),
          { name: 'wait', in: 'query', required: false, schema: { ...integerSchema, maximum: MAX_WAIT_SECONDS, default: 0 } },
          { name: 'kind', in: 'query', required: false, schema: { type: 'string', enum: [...PAYMENT_KINDS] } },
          ref('parameters', 'status'),
          queryUuid('payment_id', 'Only changes of this payment.'),
        ],
        responses: {
          '200': { description: 'A page of changes and the cursor to read on from.', ...json(ref('schemas', 'ChangePage')) },
          '400': ref('responses', 'BadRequest'),
          '401': ref('responses', 'Unauthorized'),
          '500': ref('responses', 'InternalError'),
        },
      },
    },
  },
  components: {
    securitySchemes: {
      bearerAuth: { type: 'http', scheme: 'bearer', description: 'The token configured in READ_API_TOKEN.' },
    },
    parameters: {
      user_id: queryUuid('user_id', 'Only payments of this user.'),
      account_group_id: queryUuid('account_group_id', 'Only payments of this account group.'),
      status: { name: 'status', in: 'query', required: false, schema: { type: 'string', enum: [...PAYMENT_STATUSES] } },
      updated_since: {
        name: 'updated_since',
        in: 'query',
        required: false,
        description:
          'Only payments whose row this service changed at or after this time (`projected_at >= updated_since`). Rows change when events ' +
          "are projected (webhooks, reconciliation, backfill): this is the receiver's time of change, not the provider's `updated_at`. " +
          'To follow changes, keep the largest `projected_at` seen and pass it again.',
        schema: { type: 'string', format: 'date-time' },
      },
      limit: { name: 'limit', in: 'query', required: false, schema: { ...integerSchema, minimum: 1, maximum: MAX_LIMIT, default: DEFAULT_LIMIT } },
      offset: { name: 'offset', in: 'query', required: false, schema: { ...integerSchema, default: 0 } },
    },
    responses: {
      BadRequest: problem('An invalid id or query parameter, or an unknown query parameter; `detail` names it.'),
      Unauthorized: {
        ...problem('The bearer token is missing or wrong.'),
        headers: { 'WWW-Authenticate': { schema: { type: 'string' }, example: 'Bearer' } },
      },
      InternalError: problem('The request could not be processed.'),
    },
    schemas: {
      Problem: {
        type: 'object',
        description: 'RFC 9457 problem details.',
        required: ['type', 'title', 'status', 'detail'],
        properties: {
          type: { type: 'string', format: 'uri' },
          title: { type: 'string' },
          status: { type: 'integer' },
          detail: { type: 'string' },
        },
      },
      ListMeta: {
        type: 'object',
        required: ['count', 'limit', 'offset', 'total_count'],
        properties: {
          count: { ...integerSchema, description: 'Items in this page.' },
          limit: integerSchema,
          offset: integerSchema,
          total_count: { ...integerSchema, description: 'Items matching the filters, over all pages.' },
        },
        additionalProperties: false,
      },
      StatusHistoryEntry: objectSchema(HISTORY_FIELDS),
      StatusChange: {
        type: 'object',
        required: ['payment_kind', 'payment_id', 'previous_status', 'status', 'event_id', 'event_type', 'event_created_at', 'source', 'recorded_at'],
        properties: {
          payment_kind: { type: 'string', enum: [...PAYMENT_KINDS] },
          payment_id: { type: 'string', format: 'uuid' },
          previous_status: { type: ['string', 'null'], enum: [...PAYMENT_STATUSES, null], description: 'null for the first status of a payment.' },
          status: { type: 'string', enum: [...PAYMENT_STATUSES] },
          event_id: { type: 'string', format: 'uuid', description: 'The event that caused the change.' },
          event_type: { type: 'string' },
          event_created_at: { type: 'string', format: 'date-time', description: "The event's created_at at the provider." },
          source: { type: 'string', enum: ['webhook', 'reconciliation', 'backfill'] },
          recorded_at: { type: 'string', format: 'date-time', description: 'When this service recorded the change.' },
        },
        additionalProperties: false,
      },
      ChangePage: {
        type: 'object',
        required: ['changes', 'next'],
        properties: {
          changes: { type: 'array', items: ref('schemas', 'StatusChange') },
          next: { type: 'string', description: 'The cursor to pass as `after` in the next call.' },
        },
        additionalProperties: false,
      },
      ...Object.assign({}, ...PAYMENT_RESOURCES.map(paymentSchemas)),
    },
  },
};
