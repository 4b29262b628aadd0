import crypto from 'node:crypto';
import {
  generateKeyPair,
  signWebhookRequest,
  type SigningKey,
  VerificationKeySet,
  verifyWebhookSignature,
} from '../../src/signature';
import { directDebitResource, FakeUpvest, withdrawalResource } from './fakeUpvest';

const CLIENT_ID = '363f3305-7ab0-4e82-a158-f9d382ad08b6';
const CLIENT_SECRET = 'WHIW1yic-ouct3sceh';
const clientPair = generateKeyPair('p521');
const clientKey: SigningKey = { kid: clientPair.kid, privateKey: crypto.createPrivateKey(clientPair.privateKeyPem) };

// v15 order (PROVIDER.md §5); a component is covered when the request has it.
const SIGNED_IN_ORDER = ['@method', '@path', '@query', 'authorization', 'content-type', 'content-digest', 'idempotency-key', 'upvest-client-id'];

interface CallOptions {
  method?: string;
  token?: string;
  body?: string;
  contentType?: string;
  key?: SigningKey;
  unsigned?: string[];
  /** Instead of the documented components in their order. */
  components?: string[];
  withoutIdempotencyKey?: boolean;
}

let fake: FakeUpvest;

beforeEach(async () => {
  fake = await FakeUpvest.start({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, clientJwks: clientPair.jwks });
});

afterEach(async () => {
  await fake.close();
});

/** A request signed the way the API client signs it (v15). */
async function call(target: string, options: CallOptions = {}): Promise<Response> {
  const method = options.method ?? 'GET';
  const url = new URL(target, fake.baseUrl);
  const body = Buffer.from(options.body ?? '');
  const headers: Record<string, string> = { 'upvest-client-id': CLIENT_ID, 'upvest-api-version': '1', 'upvest-signature-version': '15' };
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
  if (body.length > 0) headers['content-type'] = options.contentType ?? 'application/json';
  if (method === 'POST' && !options.withoutIdempotencyKey) headers['idempotency-key'] = crypto.randomUUID();
  const components = options.components ?? SIGNED_IN_ORDER.filter(
    (name) =>
      !(options.unsigned ?? []).includes(name) &&
      (name.startsWith('@') || (name === 'content-digest' ? body.length > 0 : headers[name] !== undefined)),
  );
  const signature = signWebhookRequest(
    { method, path: url.pathname, query: url.search, headers, body },
    { key: options.key ?? clientKey, baseFormat: 'v15', components },
  );
  return fetch(url, { method, headers: { ...headers, ...signature }, body: body.length > 0 ? body : undefined });
}

async function token(scope: string): Promise<string> {
  const response = await call('/auth/token', {
    method: 'POST',
    contentType: 'application/x-www-form-urlencoded',
    body: new URLSearchParams({ client_id: CLIENT_ID, client_secret: CLIENT_SECRET, grant_type: 'client_credentials', scope }).toString(),
  });
  expect(response.status).toBe(200);
  return ((await response.json()) as { access_token: string }).access_token;
}

test('issues tokens for known scopes to the right credentials only', async () => {
  const form = (overrides: Record<string, string>) =>
    new URLSearchParams({ client_id: CLIENT_ID, client_secret: CLIENT_SECRET, grant_type: 'client_credentials', scope: 'payments:read', ...overrides }).toString();
  const post = (body: string) => call('/auth/token', { method: 'POST', contentType: 'application/x-www-form-urlencoded', body });

  const issued = await post(form({ scope: 'webhooks:read payments:read' }));
  expect(await issued.json()).toEqual({ access_token: expect.any(String), expires_in: 3600, token_type: 'bearer', scope: 'webhooks:read payments:read' });
  expect((await post(form({ client_secret: 'wrong' }))).status).toBe(401);
  expect((await post(form({ scope: 'users:read' }))).status).toBe(400);
  expect(fake.tokensIssued).toBe(1);
  expect(fake.requests[0]).toMatchObject({ method: 'POST', path: '/auth/token', status: 200, scopes: ['webhooks:read', 'payments:read'] });
});

test('rejects a signature the tenant keys do not verify with the verifier message as problem+json', async () => {
  const stranger = generateKeyPair('p521');
  const response = await call('/webhooks', {
    token: await token('webhooks:read'),
    key: { kid: stranger.kid, privateKey: crypto.createPrivateKey(stranger.privateKeyPem) },
  });

  expect(response.status).toBe(401);
  expect(response.headers.get('content-type')).toBe('application/problem+json');
  expect(await response.json()).toEqual({
    type: 'unauthorized',
    status: 401,
    title: 'Unauthorized',
    detail: `no verification key with keyid "${stranger.kid}"`,
    instance: '/webhooks',
    request_id: response.headers.get('upvest-request-id'),
  });
});

test('requires the signature to cover authorization and a POST to carry an idempotency key', async () => {
  const bearer = await token('webhooks:admin');

  const uncovered = await call('/webhooks', { token: bearer, unsigned: ['authorization'] });
  expect(uncovered.status).toBe(401);
  expect(((await uncovered.json()) as { detail: string }).detail).toBe('the signature does not cover authorization');
  const body = JSON.stringify({ title: 'payments', url: 'https://tenant.example/webhooks' });
  expect((await call('/webhooks', { method: 'POST', token: bearer, body, withoutIdempotencyKey: true })).status).toBe(400);
});

test('requires the documented components in their documented order', async () => {
  const bearer = await token('webhooks:read');

  const reordered = await call('/webhooks', { token: bearer, components: ['@method', '@path', 'upvest-client-id', 'authorization'] });
  expect(reordered.status).toBe(401);
  expect(((await reordered.json()) as { detail: string }).detail).toMatch(/not the documented components in their order/);
  const undocumented = await call('/webhooks', { token: bearer, components: ['@method', '@path', 'authorization', 'upvest-api-version', 'upvest-client-id'] });
  expect(undocumented.status).toBe(401);
  expect((await call('/webhooks?limit=1', { token: bearer, unsigned: ['@query'] })).status).toBe(401);
  expect((await call('/webhooks?limit=1', { token: bearer })).status).toBe(200);
});

test('answers 401 to an unknown or revoked token and 403 to a token without the route scope', async () => {
  const paymentsToken = await token('payments:read');

  expect((await call('/payments/withdrawals', { token: 'made-up' })).status).toBe(401);
  expect((await call('/webhooks', { token: paymentsToken })).status).toBe(403);
  fake.revokeTokens();
  expect((await call('/payments/withdrawals', { token: paymentsToken })).status).toBe(401);
});

test('creates webhooks disabled, then enables, lists, test-delivers and deletes them', async () => {
  const bearer = await token('webhooks:admin');
  const created = await call('/webhooks', {
    method: 'POST',
    token: bearer,
    body: JSON.stringify({ title: 'payments', url: 'http://127.0.0.1:1/webhooks', type: ['WITHDRAWAL', 'DIRECT_DEBIT'] }),
  });
  expect(created.status).toBe(201);
  const { id } = (await created.json()) as { id: string };
  expect(fake.webhooks.get(id)).toMatchObject({ enabled: false, type: ['WITHDRAWAL', 'DIRECT_DEBIT'], config: { delay: '5s', max_package_size: 10240 } });

  const patched = await call(`/webhooks/${id}`, { method: 'PATCH', token: bearer, body: JSON.stringify({ enabled: true }) });
  expect(await patched.json()).toMatchObject({ id, enabled: true, title: 'payments' });
  const listed = await call('/webhooks?limit=10', { token: bearer });
  expect(await listed.json()).toMatchObject({ meta: { offset: 0, limit: 10, count: 1, total_count: 1 }, data: [{ id, enabled: true }] });
  expect((await call(`/webhooks/${id}/test`, { method: 'POST', token: bearer })).status).toBe(202);
  expect(fake.testDeliveries).toEqual([id]);
  expect((await call(`/webhooks/${id}`, { method: 'DELETE', token: bearer })).status).toBe(204);
  expect((await call(`/webhooks/${id}`, { token: bearer })).status).toBe(404);
});

test('serves stored payments by id and in sorted pages', async () => {
  const older = withdrawalResource({ id: '00000000-0000-4000-8000-000000000002', created_at: '2021-01-01T00:00:00Z' });
  const newer = withdrawalResource({ id: '00000000-0000-4000-8000-000000000001', created_at: '2021-01-01T00:00:00.5Z' });
  const debit = directDebitResource();
  for (const withdrawal of [newer, older]) fake.withdrawals.set(withdrawal.id, withdrawal);
  fake.directDebits.set(debit.id, debit);
  const bearer = await token('payments:read');

  expect(await (await call(`/payments/direct_debits/${debit.id}`, { token: bearer })).json()).toEqual(debit);
  expect((await call(`/payments/withdrawals/${debit.id}`, { token: bearer })).status).toBe(404);
  const byTime = (await (await call('/payments/withdrawals', { token: bearer })).json()) as { data: unknown[] };
  expect(byTime.data).toEqual([older, newer]);
  const byIdDescending = await call('/payments/withdrawals?sort=id&order=DESC&limit=1&offset=1', { token: bearer });
  expect(await byIdDescending.json()).toMatchObject({ meta: { offset: 1, limit: 1, count: 1, total_count: 2 }, data: [newer] });
});

test('publishes the current webhook signing keys, which verify webhooks signed with them', async () => {
  const first = fake.currentWebhookSigningKey();
  const second = fake.addWebhookSigningKey();
  fake.removeWebhookSigningKey(first.kid);
  const response = await call('/auth/verify_keys', { token: await token('webhooks:read') });
  const keys = VerificationKeySet.fromJwks(await response.json());

  expect(keys.kids).toEqual([second.kid]);
  expect(fake.currentWebhookSigningKey().kid).toBe(second.kid);
  const body = Buffer.from('{"payload":[]}');
  const webhook = { method: 'POST', path: '/webhooks/upvest', query: '', headers: { 'content-type': 'application/json', 'content-length': String(body.length) }, body };
  const signature = signWebhookRequest(webhook, { key: second });
  await expect(
    verifyWebhookSignature(
      { ...webhook, headers: { ...webhook.headers, ...signature } },
      { keyLookup: keys.lookup, baseFormat: 'v6', clockSkewSeconds: 60, maxAgeSeconds: 0, enforceExpires: true },
    ),
  ).resolves.toMatchObject({ keyId: second.kid });
});

test('injects faults and delays before authentication and records every answer', async () => {
  fake.failNext(1, 503, { pathPrefix: '/payments', retryAfterSeconds: 2 });
  fake.delayNext(1, 200);

  const started = Date.now();
  const failed = await call('/payments/withdrawals/anything');
  expect(Date.now() - started).toBeGreaterThanOrEqual(200);
  expect(failed.status).toBe(503);
  expect(failed.headers.get('retry-after')).toBe('2');
  expect((await call('/payments/withdrawals/anything')).status).toBe(401);
  expect(fake.requests.map(({ path, status }) => [path, status])).toEqual([
    ['/payments/withdrawals/anything', 503],
    ['/payments/withdrawals/anything', 401],
  ]);
});
