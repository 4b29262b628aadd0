import crypto from 'node:crypto';
import { once } from 'node:events';
import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { canonicalTimestamp } from '../../src/events/timestamps';
import { generateKeyPair, SignatureVerificationError, VerificationKeySet, verifyWebhookSignature } from '../../src/signature';
import { V15_COMPONENTS } from '../../src/provider/signApiRequest';
import { directDebitEvent, withdrawalEvent } from '../../testkit/paymentEvents';

/**
 * A fake Upvest Investment API (PROVIDER.md §5) on loopback, for integration tests of an API
 * client. It checks what the real API would reject (signature, headers, token, scope) and keeps
 * its resources in plain maps that tests fill and inspect directly.
 */

export interface FakeUpvestOptions {
  clientId: string;
  clientSecret: string;
  /** JWKS ({keys:[...]}) of the tenant's public signing key(s): requests must be signed with one of them (v15). */
  clientJwks: unknown;
  /** Default 3600. */
  tokenLifetimeSeconds?: number;
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  /** 0 until answered; stays 0 when the connection closed first (client gave up, or close()). */
  status: number;
  /** Of the bearer token the request carried, or of the token a token request obtained. */
  scopes?: string[];
  idempotencyKey?: string;
}

export interface Webhook {
  id: string;
  created_at: string;
  updated_at: string;
  title: string;
  url: string;
  type: string[];
  enabled: boolean;
  config: { delay: string; max_package_size: number };
}

/** A provider object as the API serves it (snake_case), with the id it is stored under. */
export type ProviderResource = Record<string, unknown> & { id: string };

export interface WebhookSigningKey {
  kid: string;
  privateKey: crypto.KeyObject;
}

/** A withdrawal as GET /payments/withdrawals/{id} serves it; a fresh id unless `overrides` names one. */
export function withdrawalResource(overrides: Partial<ProviderResource> = {}): ProviderResource {
  return withdrawalEvent({ paymentId: crypto.randomUUID(), object: overrides }).object as ProviderResource;
}

/** A direct debit as GET /payments/direct_debits/{id} serves it; a fresh id unless `overrides` names one. */
export function directDebitResource(overrides: Partial<ProviderResource> = {}): ProviderResource {
  return directDebitEvent({ paymentId: crypto.randomUUID(), object: overrides }).object as ProviderResource;
}

const KNOWN_SCOPES = ['webhooks:read', 'webhooks:admin', 'payments:read', 'payments:admin'];
const WEBHOOKS_READ = ['webhooks:read', 'webhooks:admin'];
const WEBHOOKS_ADMIN = ['webhooks:admin'];
const PAYMENTS_READ = ['payments:read', 'payments:admin'];
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

interface Call {
  method: string;
  path: string;
  /** '' or '?...' exactly as sent, because that is what the client signed. */
  rawQuery: string;
  query: Record<string, string>;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  /** Route parameters, e.g. the id in /webhooks/{id}. */
  params: string[];
  record: RecordedRequest;
}

interface Answer {
  status: number;
  headers?: Record<string, string>;
  body?: string;
}

/** An error answer; type and title follow from the status, as in the provider's examples (`bad_request`). */
class Problem extends Error {
  constructor(
    readonly status: number,
    detail: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(detail);
  }
}

interface Operation {
  /** undefined: no bearer token needed (the token request itself). */
  scopes?: string[];
  handle(call: Call): Answer;
}

interface Route {
  pattern: RegExp;
  operations: Record<string, Operation>;
}

interface IssuedToken {
  scopes: string[];
  expiresAtMs: number;
}

interface Fault {
  remaining: number;
  pathPrefix: string;
}

export class FakeUpvest {
  readonly baseUrl: string;
  readonly requests: RecordedRequest[] = [];
  tokensIssued = 0;
  readonly webhooks = new Map<string, Webhook>();
  readonly withdrawals = new Map<string, Record<string, unknown>>();
  readonly directDebits = new Map<string, Record<string, unknown>>();
  /** The real API may create webhooks disabled; by default the fake does, so clients must enable them. */
  createWebhooksDisabled = true;
  readonly testDeliveries: string[] = [];
  /** The spec has POST for the test delivery, the docs GET; the fake answers 405 to the other one. */
  testDeliveryMethod: 'POST' | 'GET' = 'POST';

  private readonly clientKeys: VerificationKeySet;
  private readonly tokens = new Map<string, IssuedToken>();
  // Insertion order: the last key is the current one.
  private readonly signingKeys = new Map<string, WebhookSigningKey & { publicJwk: object }>();
  private readonly failures: Array<Fault & { status: number; retryAfterSeconds?: number }> = [];
  private readonly delays: Array<Fault & { ms: number }> = [];
  // Aborts the delays of requests still waiting when the fake is closed.
  private readonly shutdown = new AbortController();
  private readonly routes: Route[];

  private constructor(
    private readonly server: http.Server,
    private readonly options: FakeUpvestOptions,
    private readonly authority: string,
  ) {
    this.baseUrl = `http://${authority}`;
    this.clientKeys = VerificationKeySet.fromJwks(options.clientJwks);
    this.routes = this.buildRoutes();
    this.addWebhookSigningKey();
  }

  /** Listens on 127.0.0.1 on a free port. */
  static async start(options: FakeUpvestOptions): Promise<FakeUpvest> {
    let fake: FakeUpvest | undefined;
    const server = http.createServer((request, response) => void fake?.serve(request, response));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    fake = new FakeUpvest(server, options, `127.0.0.1:${(server.address() as { port: number }).port}`);
    return fake;
  }

  /** Closes the server including keep-alive connections; requests still delayed are dropped. */
  async close(): Promise<void> {
    this.shutdown.abort();
    const closed = once(this.server, 'close');
    this.server.close();
    this.server.closeAllConnections();
    await closed;
  }

  /** A new P-521 key for signing webhooks; it becomes the current one. */
  addWebhookSigningKey(): WebhookSigningKey {
    const pair = generateKeyPair('p521');
    const key = { kid: pair.kid, privateKey: crypto.createPrivateKey(pair.privateKeyPem) };
    this.signingKeys.set(pair.kid, { ...key, publicJwk: pair.jwks.keys[0] });
    return key;
  }

  removeWebhookSigningKey(kid: string): void {
    this.signingKeys.delete(kid);
  }

  /** The most recently added key that has not been removed. */
  currentWebhookSigningKey(): WebhookSigningKey {
    const current = [...this.signingKeys.values()].at(-1);
    if (current === undefined) throw new Error('the fake Upvest has no webhook signing key');
    return { kid: current.kid, privateKey: current.privateKey };
  }

  /** Fault injection: the next `count` requests whose path starts with pathPrefix (default any) answer `status`. */
  failNext(count: number, status: number, options: { pathPrefix?: string; retryAfterSeconds?: number } = {}): void {
    this.failures.push({ remaining: count, pathPrefix: options.pathPrefix ?? '/', status, retryAfterSeconds: options.retryAfterSeconds });
  }

  /** The next `count` matching requests are answered only after `ms` milliseconds. */
  delayNext(count: number, ms: number, options: { pathPrefix?: string } = {}): void {
    this.delays.push({ remaining: count, pathPrefix: options.pathPrefix ?? '/', ms });
  }

  /** Makes every token issued so far invalid, as if it had expired. */
  revokeTokens(): void {
    this.tokens.clear();
  }

  private async serve(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    const requestId = crypto.randomUUID();
    const url = request.url ?? '/';
    const queryStart = url.indexOf('?');
    const path = queryStart === -1 ? url : url.slice(0, queryStart);
    const rawQuery = queryStart === -1 ? '' : url.slice(queryStart);
    const query = Object.fromEntries(new URLSearchParams(rawQuery));
    const method = request.method ?? 'GET';
    const record: RecordedRequest = { method, path, query, status: 0, idempotencyKey: singleHeader(request.headers, 'idempotency-key') };
    this.requests.push(record);

    let answer: Answer;
    try {
      const body = await readBody(request);
      answer = await this.answer({ method, path, rawQuery, query, headers: request.headers, body, params: [], record });
    } catch (error) {
      answer = problemAnswer(error, requestId, url);
    }
    // Closed while the request waited: nothing was answered.
    if (request.socket.destroyed) return;
    record.status = answer.status;
    response.writeHead(answer.status, { 'upvest-request-id': requestId, ...answer.headers });
    response.end(answer.body);
  }

  private async answer(call: Call): Promise<Answer> {
    const delay = takeFault(this.delays, call.path);
    if (delay) await sleep(delay.ms, undefined, { signal: this.shutdown.signal });
    const failure = takeFault(this.failures, call.path);
    if (failure) {
      const retryAfter: Record<string, string> =
        failure.retryAfterSeconds === undefined ? {} : { 'retry-after': String(failure.retryAfterSeconds) };
      throw new Problem(failure.status, 'injected fault', retryAfter);
    }

    this.checkUpvestHeaders(call.headers);
    await this.checkSignature(call);
    if (call.method === 'POST' && !UUID.test(singleHeader(call.headers, 'idempotency-key') ?? '')) {
      throw new Problem(400, 'a POST request needs an idempotency-key header holding a uuid');
    }

    const { operation, params } = this.route(call);
    if (operation.scopes !== undefined) {
      const { scopes } = this.authenticate(call.headers);
      call.record.scopes = scopes;
      if (!operation.scopes.some((scope) => scopes.includes(scope))) {
        throw new Problem(403, `the token lacks one of the scopes ${operation.scopes.join(', ')}`);
      }
    }
    return operation.handle({ ...call, params });
  }

  private checkUpvestHeaders(headers: http.IncomingHttpHeaders): void {
    if (singleHeader(headers, 'upvest-client-id') !== this.options.clientId) {
      throw new Problem(401, 'upvest-client-id is missing or unknown');
    }
    if (singleHeader(headers, 'upvest-api-version') !== '1') throw new Problem(400, 'upvest-api-version must be 1');
    if (singleHeader(headers, 'upvest-signature-version') !== '15') throw new Problem(400, 'upvest-signature-version must be 15');
  }

  // Verified with the receiver's own verifier, not with the library the client signs with, so a
  // bug shared by client and library cannot pass unnoticed.
  private async checkSignature(call: Call): Promise<void> {
    const hasBody = call.body.length > 0;
    let covered: string[];
    try {
      const verified = await verifyWebhookSignature(
        { method: call.method, path: call.path, query: call.rawQuery, authority: this.authority, scheme: 'http', headers: call.headers, body: call.body },
        { keyLookup: this.clientKeys.lookup, baseFormat: 'v15', clockSkewSeconds: 60, maxAgeSeconds: 0, enforceExpires: true, requireDigest: hasBody },
      );
      covered = verified.coveredComponents;
    } catch (error) {
      if (error instanceof SignatureVerificationError) throw new Problem(401, error.message);
      throw error;
    }
    // Only documented components, in the documented order (their list and order are asserted against
    // PROVIDER.md in signApiRequest.test.ts); those that identify the request are required.
    // (accept and content-length may be added by the HTTP client after signing: not required.)
    const order = covered.map((component) => V15_COMPONENTS.indexOf(component));
    if (order.some((index, i) => index === -1 || (i > 0 && index <= order[i - 1]))) {
      throw new Problem(401, `the signature covers (${covered.join(' ')}): not the documented components in their order`);
    }
    const required = ['@method', '@path', 'upvest-client-id'];
    if (call.rawQuery !== '') required.push('@query');
    if (call.headers.authorization !== undefined) required.push('authorization');
    if (hasBody) required.push('content-type', 'content-digest');
    if (call.method === 'POST' && call.headers['idempotency-key'] !== undefined) required.push('idempotency-key');
    const missing = required.filter((component) => !covered.includes(component));
    if (missing.length > 0) throw new Problem(401, `the signature does not cover ${missing.join(', ')}`);
    const input = singleHeader(call.headers, 'signature-input') ?? '';
    for (const parameter of ['keyid', 'created', 'expires', 'nonce']) {
      if (!new RegExp(`;${parameter}=`).test(input)) throw new Problem(401, `the signature has no ${parameter} parameter`);
    }
  }

  private route(call: Call): { operation: Operation; params: string[] } {
    for (const route of this.routes) {
      const match = route.pattern.exec(call.path);
      if (match === null) continue;
      const operation = route.operations[call.method];
      if (operation === undefined) throw new Problem(405, `${call.method} is not allowed on ${call.path}`);
      return { operation, params: match.slice(1).map(decodeURIComponent) };
    }
    throw new Problem(404, `no route ${call.path}`);
  }

  private authenticate(headers: http.IncomingHttpHeaders): IssuedToken {
    const bearer = /^Bearer (\S+)$/.exec(headers.authorization ?? '');
    const token = bearer === null ? undefined : this.tokens.get(bearer[1]);
    if (token === undefined || token.expiresAtMs <= Date.now()) {
      throw new Problem(401, 'the bearer token is missing, unknown or expired');
    }
    return token;
  }

  private buildRoutes(): Route[] {
    return [
      { pattern: /^\/auth\/token$/, operations: { POST: { handle: (call) => this.issueToken(call) } } },
      {
        pattern: /^\/auth\/verify_keys$/,
        operations: {
          GET: { scopes: WEBHOOKS_READ, handle: () => json(200, { keys: [...this.signingKeys.values()].map((key) => key.publicJwk) }) },
        },
      },
      {
        pattern: /^\/webhooks$/,
        operations: {
          GET: { scopes: WEBHOOKS_READ, handle: (call) => json(200, page([...this.webhooks.values()], call.query, ['created_at'])) },
          POST: { scopes: WEBHOOKS_ADMIN, handle: (call) => this.createWebhook(call) },
        },
      },
      {
        pattern: /^\/webhooks\/([^/]+)$/,
        operations: {
          GET: { scopes: WEBHOOKS_READ, handle: (call) => json(200, found(this.webhooks, call.params[0])) },
          PATCH: { scopes: WEBHOOKS_ADMIN, handle: (call) => this.updateWebhook(call) },
          DELETE: {
            scopes: WEBHOOKS_ADMIN,
            handle: (call) => {
              this.webhooks.delete(found(this.webhooks, call.params[0]).id);
              return { status: 204 };
            },
          },
        },
      },
      {
        pattern: /^\/webhooks\/([^/]+)\/test$/,
        operations: Object.fromEntries(
          (['POST', 'GET'] as const).map((method) => [
            method,
            {
              scopes: WEBHOOKS_ADMIN,
              handle: (call: Call) => {
                if (method !== this.testDeliveryMethod) throw new Problem(405, `${method} is not allowed on ${call.path}`);
                this.testDeliveries.push(found(this.webhooks, call.params[0]).id);
                return { status: 202 };
              },
            },
          ]),
        ),
      },
      ...paymentRoutes('withdrawals', this.withdrawals),
      ...paymentRoutes('direct_debits', this.directDebits),
    ];
  }

  private issueToken(call: Call): Answer {
    if (!(singleHeader(call.headers, 'content-type') ?? '').startsWith('application/x-www-form-urlencoded')) {
      throw new Problem(400, 'the token request must be application/x-www-form-urlencoded');
    }
    const form = new URLSearchParams(call.body.toString('utf8'));
    if (form.get('client_id') !== this.options.clientId || form.get('client_secret') !== this.options.clientSecret) {
      throw new Problem(401, 'wrong client_id or client_secret');
    }
    if (form.get('grant_type') !== 'client_credentials') throw new Problem(400, 'grant_type must be client_credentials');
    const scopes = (form.get('scope') ?? '').split(' ').filter((scope) => scope !== '');
    const unknown = scopes.filter((scope) => !KNOWN_SCOPES.includes(scope));
    if (scopes.length === 0 || unknown.length > 0) throw new Problem(400, `unknown or missing scope: ${unknown.join(' ')}`);

    const lifetime = this.options.tokenLifetimeSeconds ?? 3600;
    const accessToken = crypto.randomBytes(32).toString('base64url');
    this.tokens.set(accessToken, { scopes, expiresAtMs: Date.now() + lifetime * 1000 });
    this.tokensIssued += 1;
    call.record.scopes = scopes;
    return json(200, { access_token: accessToken, expires_in: lifetime, token_type: 'bearer', scope: scopes.join(' ') });
  }

  private createWebhook(call: Call): Answer {
    const fields = webhookFields(call.body, ['title', 'url', 'type', 'config']);
    if (fields.title === undefined || fields.url === undefined) throw new Problem(400, 'title and url are required');
    const now = new Date().toISOString();
    const webhook: Webhook = {
      id: crypto.randomUUID(),
      created_at: now,
      updated_at: now,
      title: fields.title,
      url: fields.url,
      type: fields.type ?? ['ALL'],
      enabled: !this.createWebhooksDisabled,
      config: { delay: '5s', max_package_size: 10240, ...fields.config },
    };
    this.webhooks.set(webhook.id, webhook);
    // The OpenAPI spec (1.9.0) answers 201 here.
    return json(201, webhook);
  }

  private updateWebhook(call: Call): Answer {
    const webhook = found(this.webhooks, call.params[0]);
    const fields = webhookFields(call.body, ['title', 'url', 'type', 'config', 'enabled']);
    const updated: Webhook = {
      ...webhook,
      ...fields,
      config: { ...webhook.config, ...fields.config },
      updated_at: new Date().toISOString(),
    };
    this.webhooks.set(updated.id, updated);
    return json(200, updated);
  }
}

function paymentRoutes(collection: string, resources: Map<string, Record<string, unknown>>): Route[] {
  return [
    {
      pattern: new RegExp(`^/payments/${collection}$`),
      operations: { GET: { scopes: PAYMENTS_READ, handle: (call) => json(200, page([...resources.values()], call.query, ['created_at', 'id'])) } },
    },
    {
      pattern: new RegExp(`^/payments/${collection}/([^/]+)$`),
      operations: { GET: { scopes: PAYMENTS_READ, handle: (call) => json(200, found(resources, call.params[0])) } },
    },
  ];
}

function found<T>(resources: Map<string, T>, id: string): T {
  const resource = resources.get(id);
  if (resource === undefined) throw new Problem(404, `no resource with id ${id}`);
  return resource;
}

/** One page of a list endpoint: `limit` (1..1000, default 100), `offset`, `sort` (one of `sortable`), `order`. */
function page(items: object[], query: Record<string, string>, sortable: string[]): object {
  const limit = integerParameter(query, 'limit', 100, 1, 1000);
  const offset = integerParameter(query, 'offset', 0, 0, Number.MAX_SAFE_INTEGER);
  const sort = query.sort ?? 'created_at';
  const order = query.order ?? 'ASC';
  if (!sortable.includes(sort)) throw new Problem(400, `sort must be one of ${sortable.join(', ')}`);
  if (order !== 'ASC' && order !== 'DESC') throw new Problem(400, 'order must be ASC or DESC');

  const key = (item: object) => sortKey((item as Record<string, unknown>)[sort]);
  const sorted = [...items].sort((a, b) => key(a).localeCompare(key(b)));
  if (order === 'DESC') sorted.reverse();
  const data = sorted.slice(offset, offset + limit);
  return { meta: { offset, limit, count: data.length, total_count: items.length, sort, order }, data };
}

// Timestamps of any fractional length compare in time only once canonical.
function sortKey(value: unknown): string {
  return typeof value === 'string' ? (canonicalTimestamp(value) ?? value) : String(value);
}

function integerParameter(query: Record<string, string>, name: string, fallback: number, min: number, max: number): number {
  if (query[name] === undefined) return fallback;
  const value = Number(query[name]);
  if (!/^\d+$/.test(query[name]) || value < min || value > max) {
    throw new Problem(400, `${name} must be an integer from ${min} to ${max}`);
  }
  return value;
}

const WEBHOOK_FIELD_CHECKS: Record<string, (value: unknown) => boolean> = {
  title: (value) => typeof value === 'string' && value.length <= 100,
  // The real API wants https; the fake also takes http so tests can point webhooks at loopback.
  url: (value) => typeof value === 'string' && /^https?:\/\//.test(value),
  type: (value) => Array.isArray(value) && value.every((type) => typeof type === 'string'),
  enabled: (value) => typeof value === 'boolean',
  config: (value) =>
    isObject(value) &&
    Object.entries(value).every(([name, setting]) =>
      name === 'delay' ? typeof setting === 'string' : name === 'max_package_size' && Number.isInteger(setting),
    ),
};

/** The webhook fields of a JSON body; the API rejects unknown fields (additionalProperties: false). */
function webhookFields(body: Buffer, allowed: string[]): Partial<Webhook> {
  let fields: unknown;
  try {
    fields = JSON.parse(body.toString('utf8'));
  } catch {
    throw new Problem(400, 'the body is not JSON');
  }
  if (!isObject(fields)) throw new Problem(400, 'the body must be a JSON object');
  for (const [name, value] of Object.entries(fields)) {
    if (!allowed.includes(name)) throw new Problem(400, `unknown field ${name}`);
    if (!WEBHOOK_FIELD_CHECKS[name](value)) throw new Problem(400, `invalid ${name}`);
  }
  return fields as Partial<Webhook>;
}

function takeFault<T extends Fault>(faults: T[], path: string): T | undefined {
  const index = faults.findIndex((fault) => fault.remaining > 0 && path.startsWith(fault.pathPrefix));
  if (index === -1) return undefined;
  const fault = faults[index];
  fault.remaining -= 1;
  if (fault.remaining <= 0) faults.splice(index, 1);
  return fault;
}

function problemAnswer(error: unknown, requestId: string, instance: string): Answer {
  const problem = error instanceof Problem ? error : new Problem(500, (error as Error).message);
  const title = http.STATUS_CODES[problem.status] ?? 'Error';
  return {
    status: problem.status,
    headers: { 'content-type': 'application/problem+json', ...problem.headers },
    body: JSON.stringify({
      type: title.toLowerCase().replace(/\W+/g, '_'),
      status: problem.status,
      title,
      detail: problem.message,
      instance,
      request_id: requestId,
    }),
  };
}

function json(status: number, value: unknown): Answer {
  return { status, headers: { 'content-type': 'application/json' }, body: JSON.stringify(value) };
}

function singleHeader(headers: http.IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}

async function readBody(request: http.IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
