import crypto from 'node:crypto';
import request from 'supertest';
import { batchOf, withdrawalEvent } from '../../testkit/paymentEvents';
import { FakeUpvestTenant, startFakeUpvestTenant } from '../support/fakeUpvestTenant';
import { eventually, headersSignedWith, startTestService, TestService } from '../support/testService';
import { SigningKey } from '../../src/signature';

/** Webhook verification keys come from the provider's API when no static JWKS is configured. */
describe('verification keys from the provider', () => {
  let tenant: FakeUpvestTenant;
  let service: TestService | undefined;

  const verifyKeyRequests = () => tenant.fake.requests.filter((recorded) => recorded.path === '/auth/verify_keys').length;
  const deliver = (key: SigningKey) => {
    const body = batchOf(withdrawalEvent({ paymentId: crypto.randomUUID() }));
    return request((service as TestService).baseUrl).post('/webhooks/upvest').set(headersSignedWith(body, key)).send(body);
  };
  const start = (environment: Record<string, string>) =>
    startTestService({ ...tenant.environment, UPVEST_WEBHOOK_JWKS: '', RECONCILIATION_INTERVAL_SECONDS: '0', ...environment });
  /** The service loads the keys after it starts serving; ready means they have loaded. */
  const startReady = async (environment: Record<string, string>) => {
    const started = await start(environment);
    await eventually(async () => (await request(started.baseUrl).get('/readyz')).status === 200, 10_000, 'the keys to load');
    return started;
  };

  beforeEach(async () => {
    tenant = await startFakeUpvestTenant();
  });

  afterEach(async () => {
    await service?.stop();
    service = undefined;
    await tenant.fake.close();
  });

  it('accepts webhooks signed with the key the provider publishes', async () => {
    service = await startReady({});
    expect((await deliver(tenant.fake.currentWebhookSigningKey())).status).toBe(200);
    expect(verifyKeyRequests()).toBe(1);
  });

  it('picks up a rotated key on the first webhook signed with it, and refreshes once for unknown keys', async () => {
    service = await startReady({ VERIFY_KEYS_MIN_REFRESH_INTERVAL_SECONDS: '60' });
    const oldKey = tenant.fake.currentWebhookSigningKey();
    const newKey = tenant.fake.addWebhookSigningKey();

    expect((await deliver(newKey)).status).toBe(200);
    expect((await deliver(oldKey)).status).toBe(200);
    expect(verifyKeyRequests()).toBe(2);

    // A key the provider never published: no refresh within the rate-limit window, rejected.
    const stranger: SigningKey = { kid: crypto.randomUUID(), privateKey: crypto.generateKeyPairSync('ec', { namedCurve: 'P-521' }).privateKey };
    const rejected = await deliver(stranger);
    expect(rejected.status).toBe(401);
    expect(rejected.body.detail).toMatch(/no verification key/);
    expect((await deliver(stranger)).status).toBe(401);
    expect(verifyKeyRequests()).toBe(2);
  });

  it('answers 503 while the keys could not be loaded yet, and accepts once they load', async () => {
    tenant.fake.failNext(2, 500, { pathPrefix: '/auth/verify_keys' });
    service = await start({ UPVEST_API_MAX_RETRIES: '0', VERIFY_KEYS_MIN_REFRESH_INTERVAL_SECONDS: '0' });
    const ready = await request(service.baseUrl).get('/readyz');
    expect(ready.status).toBe(503);

    const refused = await deliver(tenant.fake.currentWebhookSigningKey());
    expect(refused.status).toBe(503);
    expect(refused.headers['retry-after']).toBe('5');

    // Each refused delivery triggers a refresh (no rate limit here); the third fetch succeeds.
    await eventually(async () => (await deliver(tenant.fake.currentWebhookSigningKey())).status === 200, 10_000, 'a delivery to be accepted');
    expect((await request(service.baseUrl).get('/readyz')).status).toBe(200);
  });

  it('keeps the last good keys when a refresh fails', async () => {
    service = await startReady({ UPVEST_API_MAX_RETRIES: '0', VERIFY_KEYS_MIN_REFRESH_INTERVAL_SECONDS: '0' });
    const knownKey = tenant.fake.currentWebhookSigningKey();
    tenant.fake.failNext(1, 500, { pathPrefix: '/auth/verify_keys' });
    const unknown = tenant.fake.addWebhookSigningKey();
    tenant.fake.removeWebhookSigningKey(unknown.kid);

    expect((await deliver(unknown)).status).toBe(401);
    expect((await deliver(knownKey)).status).toBe(200);
  });
});
