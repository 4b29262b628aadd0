import type { UpvestApiConfig } from '../../src/config/config';
import { UpvestApiError, UpvestApiUnavailableError } from '../../src/provider/errors';
import type { WebhookSettings } from '../../src/provider/UpvestApi';
import { withdrawalResource } from '../support/fakeUpvest';
import { startUpvestClient, type UpvestClientSetup } from '../support/upvestClientSetup';

const SETTINGS: WebhookSettings = {
  title: 'payments',
  url: 'https://receiver.example.com/webhooks/upvest',
  type: ['WITHDRAWAL', 'DIRECT_DEBIT'],
  config: { delay: '5s', max_package_size: 10240 },
};
const FIRST_PAGE = { limit: 10, offset: 0 };
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('UpvestApiClient against the fake Upvest API', () => {
  let setup: UpvestClientSetup | undefined;

  async function start(overrides: Partial<UpvestApiConfig> = {}): Promise<UpvestClientSetup> {
    setup = await startUpvestClient(overrides);
    return setup;
  }

  /** "METHOD path status" of every request the fake received on paths starting with `prefix`. */
  function seen(prefix = '/'): string[] {
    return (setup as UpvestClientSetup).fake.requests.filter(({ path }) => path.startsWith(prefix)).map(({ method, path, status }) => `${method} ${path} ${status}`);
  }

  async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
    return promise.then(
      () => {
        throw new Error('expected a rejection');
      },
      (error: unknown) => error,
    );
  }

  afterEach(async () => {
    await setup?.close();
    setup = undefined;
  });

  it('is accepted by the fake for the token request, GET with a query, POST, PATCH and DELETE', async () => {
    const { api, fake, exchanges } = await start();

    const created = await api.createWebhook(SETTINGS);
    expect(await api.updateWebhook(created.id, { enabled: true })).toMatchObject({ id: created.id, enabled: true });
    expect((await api.listWebhooks(FIRST_PAGE)).data).toEqual([expect.objectContaining({ id: created.id })]);
    await api.testWebhook(created.id);
    await api.deleteWebhook(created.id);

    expect(seen()).toEqual([
      'POST /auth/token 200',
      'POST /webhooks 201',
      `PATCH /webhooks/${created.id} 200`,
      'POST /auth/token 200',
      'GET /webhooks 200',
      `POST /webhooks/${created.id}/test 202`,
      `DELETE /webhooks/${created.id} 204`,
    ]);
    expect(fake.requests[4].query).toEqual({ limit: '10', offset: '0' });
    expect(fake.webhooks.size).toBe(0);
    for (const { method, url, headers } of exchanges) {
      expect(headers).toMatchObject({ 'upvest-client-id': expect.any(String), 'upvest-api-version': '1', 'upvest-signature-version': '15' });
      expect(headers.authorization === undefined).toBe(url.endsWith('/auth/token'));
      expect(headers['idempotency-key'] ?? 'none').toMatch(method === 'POST' ? UUID : /^none$/);
    }
  });

  it('reads a payment with a token of its own scope, validated against the payment schema', async () => {
    const { api, fake } = await start();
    const withdrawal = withdrawalResource();
    fake.withdrawals.set(withdrawal.id, withdrawal);

    expect(await api.payment('WITHDRAWAL', withdrawal.id)).toEqual(withdrawal);
    expect(fake.requests.at(-1)?.scopes).toEqual(['payments:read']);
  });

  it('reuses one token across calls, and one token request serves concurrent callers', async () => {
    const { api, fake } = await start();

    await Promise.all([1, 2, 3, 4, 5].map(() => api.listWebhooks(FIRST_PAGE)));
    await api.verificationKeys();
    await api.listWebhooks(FIRST_PAGE);

    expect(fake.tokensIssued).toBe(1);
    expect(seen('/auth/token')).toEqual(['POST /auth/token 200']);
  });

  it('gets a separate token for each set of scopes', async () => {
    const { api, fake } = await start();
    const withdrawal = withdrawalResource();
    fake.withdrawals.set(withdrawal.id, withdrawal);

    await api.listWebhooks(FIRST_PAGE);
    await api.payment('WITHDRAWAL', withdrawal.id);
    await api.createWebhook(SETTINGS);
    await api.verificationKeys();

    expect(fake.tokensIssued).toBe(3);
    expect(fake.requests.filter(({ path }) => path === '/auth/token').map(({ scopes }) => scopes)).toEqual([
      ['webhooks:read'],
      ['payments:read'],
      ['webhooks:admin'],
    ]);
  });

  it('gets one new token and succeeds when the provider revoked the cached one', async () => {
    const { api, fake } = await start();
    await api.listWebhooks(FIRST_PAGE);
    fake.revokeTokens();

    await expect(api.listWebhooks(FIRST_PAGE)).resolves.toMatchObject({ meta: { total_count: 0 } });
    expect(fake.tokensIssued).toBe(2);
    expect(seen('/webhooks')).toEqual(['GET /webhooks 200', 'GET /webhooks 401', 'GET /webhooks 200']);
  });

  it('retries a 429 after the Retry-After delay', async () => {
    const { api, fake } = await start({ retryMaxDelayMs: 2000 });
    await api.listWebhooks(FIRST_PAGE);
    fake.failNext(1, 429, { pathPrefix: '/webhooks', retryAfterSeconds: 1 });

    const started = Date.now();
    await api.listWebhooks(FIRST_PAGE);
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(seen('/webhooks')).toEqual(['GET /webhooks 200', 'GET /webhooks 429', 'GET /webhooks 200']);
  });

  it('retries 500 and 503 with back-off until the provider answers', async () => {
    const { api, fake } = await start();
    const withdrawal = withdrawalResource();
    const path = `/payments/withdrawals/${withdrawal.id}`;
    fake.withdrawals.set(withdrawal.id, withdrawal);
    fake.failNext(1, 500, { pathPrefix: '/payments' });
    fake.failNext(1, 503, { pathPrefix: '/payments' });

    const started = Date.now();
    await expect(api.payment('WITHDRAWAL', withdrawal.id)).resolves.toEqual(withdrawal);
    // Back-off of base 20 ms: at least 10 ms, then at least 20 ms (jittered into the upper half).
    expect(Date.now() - started).toBeGreaterThanOrEqual(25);
    expect(seen('/payments')).toEqual([`GET ${path} 500`, `GET ${path} 503`, `GET ${path} 200`]);
  });

  it('gives up after maxRetries retries and throws the last error', async () => {
    const { api, fake } = await start({ maxRetries: 2 });
    fake.failNext(10, 503, { pathPrefix: '/webhooks' });

    const error = await rejectionOf(api.listWebhooks(FIRST_PAGE));
    expect(error).toBeInstanceOf(UpvestApiError);
    expect(error).toMatchObject({ status: 503 });
    expect(seen('/webhooks')).toHaveLength(3);
  });

  it('keeps the idempotency-key of a POST across its retries, and uses a new one for the next POST', async () => {
    const { api, fake } = await start();
    fake.failNext(2, 503, { pathPrefix: '/webhooks' });

    await api.createWebhook(SETTINGS);
    await api.createWebhook(SETTINGS);

    const posts = fake.requests.filter(({ method, path }) => method === 'POST' && path === '/webhooks');
    expect(posts.map(({ status }) => status)).toEqual([503, 503, 201, 201]);
    expect(posts[0].idempotencyKey).toMatch(UUID);
    expect(new Set(posts.slice(0, 3).map(({ idempotencyKey }) => idempotencyKey)).size).toBe(1);
    expect(posts[3].idempotencyKey).not.toBe(posts[0].idempotencyKey);
  });

  it.each([
    [404, 'not_found', 'no resource with id missing', '/payments', (setup: UpvestClientSetup) => setup.api.payment('WITHDRAWAL', 'missing')],
    [400, 'bad_request', 'limit must be an integer from 1 to 1000', '/webhooks', (setup: UpvestClientSetup) => setup.api.listWebhooks({ limit: 5000, offset: 0 })],
  ])('does not retry a %d and throws UpvestApiError with the problem details', async (status, type, detail, path, request) => {
    const started = await start();

    const error = await rejectionOf(request(started));
    expect(error).toBeInstanceOf(UpvestApiError);
    const answered = started.exchanges.at(-1);
    expect(answered?.status).toBe(status);
    expect(answered?.requestId).toMatch(UUID);
    expect(error).toMatchObject({ status, type, detail, requestId: answered?.requestId });
    expect((error as Error).message).toContain(`(upvest-request-id ${answered?.requestId})`);
    expect(seen(path)).toHaveLength(1);
  });

  it('throws UpvestApiUnavailableError when every attempt takes longer than timeoutMs', async () => {
    const { api, fake } = await start({ timeoutMs: 150, maxRetries: 2 });
    await api.listWebhooks(FIRST_PAGE);
    fake.delayNext(3, 2000, { pathPrefix: '/webhooks' });

    const started = Date.now();
    const error = await rejectionOf(api.listWebhooks(FIRST_PAGE));
    expect(error).toBeInstanceOf(UpvestApiUnavailableError);
    expect((error as Error).message).toMatch(/^GET \/webhooks: no answer from the Upvest API/);
    expect(Date.now() - started).toBeGreaterThanOrEqual(3 * 140);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(seen('/webhooks')).toHaveLength(4);
  });

  it('stops retrying at once when Retry-After asks for longer than retryMaxDelayMs', async () => {
    const { api, fake } = await start({ retryMaxDelayMs: 200 });
    fake.failNext(1, 503, { pathPrefix: '/webhooks', retryAfterSeconds: 5 });

    const started = Date.now();
    const error = await rejectionOf(api.listWebhooks(FIRST_PAGE));
    expect(error).toMatchObject({ status: 503 });
    expect(Date.now() - started).toBeLessThan(1000);
    expect(seen('/webhooks')).toEqual(['GET /webhooks 503']);
  });

  it('sends the client secret only in the token request form, and never logs it', async () => {
    const { api, fake, exchanges, config, logger } = await start();
    const warnings = jest.spyOn(logger, 'warn');
    fake.failNext(1, 503, { pathPrefix: '/auth/token' });

    const created = await api.createWebhook(SETTINGS);
    fake.revokeTokens();
    await api.updateWebhook(created.id, { enabled: true });
    await api.listWebhooks(FIRST_PAGE);

    const tokenRequests = exchanges.filter(({ url }) => url.endsWith('/auth/token'));
    expect(tokenRequests.map(({ status }) => status)).toEqual([503, 200, 200, 200]);
    for (const { body } of tokenRequests) {
      expect(Object.fromEntries(new URLSearchParams(body))).toEqual({
        client_id: config.clientId,
        client_secret: config.clientSecret,
        grant_type: 'client_credentials',
        scope: expect.any(String),
      });
    }
    for (const { url, headers, body } of exchanges) {
      expect(url).not.toContain(config.clientSecret);
      expect(JSON.stringify(headers)).not.toContain(config.clientSecret);
      if (!url.endsWith('/auth/token')) expect(body).not.toContain(config.clientSecret);
    }
    expect(warnings).toHaveBeenCalled();
    expect(JSON.stringify(warnings.mock.calls)).not.toContain(config.clientSecret);
  });
});
