import { FakeUpvestTenant, startFakeUpvestTenant } from '../support/fakeUpvestTenant';
import { runCliCapturing } from '../support/cliRun';

const RECEIVER_URL = 'https://receiver.example.com/webhooks/upvest';

describe('npm run cli -- webhooks', () => {
  let tenant: FakeUpvestTenant;
  const cli = (...argv: string[]) => runCliCapturing(argv, tenant.environment);

  beforeEach(async () => {
    tenant = await startFakeUpvestTenant();
  });

  afterEach(async () => {
    await tenant.fake.close();
  });

  it('registers once and enables the subscription, even though the provider creates it disabled', async () => {
    const created = await cli('webhooks', 'register', '--url', RECEIVER_URL, '--json');
    expect(created.code).toBe(0);
    const { action, webhook } = JSON.parse(created.out);
    expect(action).toBe('created');
    expect(webhook).toMatchObject({ url: RECEIVER_URL, enabled: true, type: ['WITHDRAWAL', 'DIRECT_DEBIT'], config: { delay: '5s', max_package_size: 10240 } });
    expect([...tenant.fake.webhooks.values()].map((stored) => stored.enabled)).toEqual([true]);
  });

  it('updates the existing subscription with the same URL instead of creating a second one', async () => {
    await cli('webhooks', 'register', '--url', RECEIVER_URL);
    const again = await cli('webhooks', 'register', '--url', RECEIVER_URL, '--types', 'WITHDRAWAL', '--delay', '10s', '--max-package-size', '2048');

    expect(again.code).toBe(0);
    expect(again.out).toMatch(/webhook updated and enabled/);
    expect(tenant.fake.webhooks.size).toBe(1);
    expect([...tenant.fake.webhooks.values()][0]).toMatchObject({ type: ['WITHDRAWAL'], config: { delay: '10s', max_package_size: 2048 }, enabled: true });
  });

  it('lists subscriptions as a table or as JSON', async () => {
    await cli('webhooks', 'register', '--url', RECEIVER_URL);
    const table = await cli('webhooks', 'list');
    const json = await cli('webhooks', 'list', '--json');

    expect(table.out.split('\n')[0]).toMatch(/^ID\s+ENABLED\s+URL\s+TYPES/);
    expect(table.out).toContain(RECEIVER_URL);
    expect(JSON.parse(json.out)).toHaveLength(1);
  });

  it('triggers a test delivery and deletes a subscription by id', async () => {
    const { webhook } = JSON.parse((await cli('webhooks', 'register', '--url', RECEIVER_URL, '--json')).out);

    const tested = await cli('webhooks', 'test', webhook.id);
    expect(tested.code).toBe(0);
    expect(tested.out).toMatch(/answered 202/);
    expect(tenant.fake.testDeliveries).toEqual([webhook.id]);

    expect((await cli('webhooks', 'delete', webhook.id)).code).toBe(0);
    expect(tenant.fake.webhooks.size).toBe(0);
  });

  it('sends the test request as GET when the provider refuses POST with 405', async () => {
    const { webhook } = JSON.parse((await cli('webhooks', 'register', '--url', RECEIVER_URL, '--json')).out);
    tenant.fake.testDeliveryMethod = 'GET';

    const tested = await cli('webhooks', 'test', webhook.id);

    expect(tested.code).toBe(0);
    expect(tenant.fake.testDeliveries).toEqual([webhook.id]);
    expect(tenant.fake.requests.filter(({ path }) => path.endsWith('/test')).map(({ method, status }) => `${method} ${status}`)).toEqual(['POST 405', 'GET 202']);
  });

  it('exits 3 for an unknown webhook id', async () => {
    const result = await cli('webhooks', 'delete', '00000000-0000-4000-8000-000000000000');
    expect(result.code).toBe(3);
    expect(result.err).toMatch(/no webhook with id/);
  });

  it('exits 2 for bad usage or missing credentials, naming the problem', async () => {
    expect((await cli('webhooks', 'register')).err).toMatch(/--url is required/);
    expect((await cli('webhooks', 'register', '--url', RECEIVER_URL, '--delay', '5h')).code).toBe(2);
    expect((await cli('webhooks', 'register', '--url', 'http://receiver.example.com/webhooks/upvest')).err).toMatch(/--url must be an https URL/);
    for (const ipUrl of ['https://203.0.113.7/webhooks/upvest', 'https://[2001:db8::7]/webhooks/upvest']) {
      const refused = await cli('webhooks', 'register', '--url', ipUrl);
      expect(refused.code).toBe(2);
      expect(refused.err).toMatch(/--url must name its host by DNS name/);
    }
    expect(tenant.fake.webhooks.size).toBe(0);
    expect((await cli('webhooks', 'frobnicate')).code).toBe(2);
    const withoutCredentials = await runCliCapturing(['webhooks', 'list'], {});
    expect(withoutCredentials.code).toBe(2);
    expect(withoutCredentials.err).toMatch(/UPVEST_CLIENT_ID/);
  });

  it('exits 1 with the provider request id when the API keeps failing', async () => {
    tenant.fake.failNext(10, 503, { pathPrefix: '/webhooks' });
    const result = await runCliCapturing(['webhooks', 'list'], { ...tenant.environment, UPVEST_API_MAX_RETRIES: '1' });
    expect(result.code).toBe(1);
    expect(result.err).toMatch(/GET \/webhooks answered 503.*upvest-request-id/);
  });
});
