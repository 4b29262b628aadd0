import { runCliCapturing } from '../support/cliRun';
import { providerKeys } from '../support/testService';
import { createTestDatabase, TestDatabase } from '../support/testDatabase';

let database: TestDatabase;
let environment: Record<string, string>;

beforeAll(async () => {
  database = await createTestDatabase();
  // Only Postgres: no Redis, no Upvest API credentials.
  environment = { DATABASE_URL: database.url, MIGRATE_ON_START: 'false', REDIS_URL: 'redis://127.0.0.1:1' };
});

afterAll(async () => {
  await database.drop();
});

const cli = (...argv: string[]) => runCliCapturing(argv, environment);

describe('npm run cli -- subscriptions', () => {
  it('adds a subscription and prints its secret once', async () => {
    const added = await cli('subscriptions', 'add', '--url', 'https://hooks.example.com/ledger', '--kinds', 'withdrawal', '--statuses', 'CONFIRMED,CANCELLED', '--description', 'ledger');
    expect(added.code).toBe(0);
    expect(added.out).toMatch(/signing secret \(shown only this once\): whsec_\S+/);
    expect(added.out).toMatch(/kinds: +WITHDRAWAL +statuses: CONFIRMED,CANCELLED/);

    const listed = await cli('subscriptions', 'list');
    expect(listed.code).toBe(0);
    expect(listed.out.split('\n')[0]).toMatch(/^ID\s+STATE\s+UNDELIVERED\s+POSITION\s+URL$/);
    expect(listed.out).toContain('https://hooks.example.com/ledger');
    expect(listed.out).not.toContain('whsec_');
  });

  it('updates, disables, enables, rotates, replays, lists deliveries and deletes, with --json', async () => {
    const { subscription, secret } = JSON.parse((await cli('subscriptions', 'add', '--url', 'https://hooks.example.com/a', '--json')).out);
    const { id } = subscription;
    expect(secret).toMatch(/^whsec_/);

    const updated = JSON.parse((await cli('subscriptions', 'update', id, '--url', 'https://hooks.example.com/b', '--statuses', 'CONFIRMED', '--json')).out);
    expect(updated).toMatchObject({ url: 'https://hooks.example.com/b', statuses: ['CONFIRMED'], payment_kinds: null });
    expect(JSON.parse((await cli('subscriptions', 'update', id, '--all-statuses', '--json')).out).statuses).toBeNull();
    expect(JSON.parse((await cli('subscriptions', 'disable', id, '--json')).out).state).toBe('disabled');
    expect(JSON.parse((await cli('subscriptions', 'enable', id, '--json')).out).state).toBe('active');

    const rotated = JSON.parse((await cli('subscriptions', 'rotate-secret', id, '--overlap', '90m', '--json')).out);
    expect(rotated.secret).not.toBe(secret);
    expect(Date.parse(rotated.subscription.previous_secret_expires_at) - Date.now()).toBeGreaterThan(85 * 60_000);

    expect(JSON.parse((await cli('subscriptions', 'replay', id, '--from-position', '5.0', '--json')).out)).toMatchObject({ position: '5.0', dispatched: '5.0' });
    expect((await cli('subscriptions', 'replay', id, '--since', '2026-01-01T00:00:00Z')).code).toBe(0);
    expect(JSON.parse((await cli('subscriptions', 'deliveries', id, '--undelivered', '--json')).out)).toEqual([]);
    expect((await cli('subscriptions', 'show', id)).out).toContain('https://hooks.example.com/b');

    expect((await cli('subscriptions', 'delete', id)).code).toBe(0);
    const gone = await cli('subscriptions', 'show', id);
    expect(gone.code).toBe(3);
    expect(gone.err).toContain(`No subscription with id ${id}`);
  });

  it.each([
    [['subscriptions', 'add']],
    [['subscriptions', 'add', '--url', 'https://10.0.0.1/hook']],
    [['subscriptions', 'add', '--url', 'https://hooks.example.com/', '--kinds', 'ORDER']],
    [['subscriptions', 'show', 'not-a-uuid']],
    [['subscriptions', 'replay', '00000000-0000-4000-8000-000000000001']],
    [['subscriptions', 'rotate-secret', '00000000-0000-4000-8000-000000000001', '--overlap', 'a while']],
    [['subscriptions', 'frobnicate']],
  ])('exits 2 for %j', async (argv) => {
    expect((await cli(...argv)).code).toBe(2);
  });

  it('refuses http:// in production unless PUSH_ALLOW_HTTP', async () => {
    const production = { ...environment, NODE_ENV: 'production', UPVEST_WEBHOOK_JWKS: JSON.stringify(providerKeys.jwks) };
    const refused = await runCliCapturing(['subscriptions', 'add', '--url', 'http://hooks.example.com/'], production);
    expect(refused.code).toBe(2);
    expect(refused.err).toContain('http:// is not allowed in production');
    expect((await runCliCapturing(['subscriptions', 'add', '--url', 'http://hooks.example.com/'], { ...production, PUSH_ALLOW_HTTP: 'true' })).code).toBe(0);
  });
});
