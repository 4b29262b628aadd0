import { randomUUID } from 'node:crypto';
import { Pool } from 'pg';
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
    const added = await cli('subscriptions', 'add', '--url', 'https://hooks.example.invalid/ledger', '--kinds', 'withdrawal', '--statuses', 'CONFIRMED,CANCELLED', '--description', 'ledger');
    expect(added.code).toBe(0);
    expect(added.out).toMatch(/signing secret \(shown only this once\): whsec_\S+/);
    expect(added.out).toMatch(/kinds: +WITHDRAWAL +statuses: CONFIRMED,CANCELLED/);

    const listed = await cli('subscriptions', 'list');
    expect(listed.code).toBe(0);
    expect(listed.out.split('\n')[0]).toMatch(/^ID\s+STATE\s+UNDELIVERED\s+POSITION\s+URL$/);
    expect(listed.out).toContain('https://hooks.example.invalid/ledger');
    expect(listed.out).not.toContain('whsec_');
  });

  it('updates, disables, enables, rotates, replays, lists deliveries and deletes, with --json', async () => {
    const { subscription, secret } = JSON.parse((await cli('subscriptions', 'add', '--url', 'https://hooks.example.invalid/a', '--json')).out);
    const { id } = subscription;
    expect(secret).toMatch(/^whsec_/);

    const updated = JSON.parse((await cli('subscriptions', 'update', id, '--url', 'https://hooks.example.invalid/b', '--statuses', 'CONFIRMED', '--json')).out);
    expect(updated).toMatchObject({ url: 'https://hooks.example.invalid/b', statuses: ['CONFIRMED'], payment_kinds: null });
    expect(JSON.parse((await cli('subscriptions', 'update', id, '--all-statuses', '--json')).out).statuses).toBeNull();
    expect(JSON.parse((await cli('subscriptions', 'disable', id, '--json')).out).state).toBe('disabled');
    expect(JSON.parse((await cli('subscriptions', 'enable', id, '--json')).out).state).toBe('active');

    const rotated = JSON.parse((await cli('subscriptions', 'rotate-secret', id, '--overlap', '90m', '--json')).out);
    expect(rotated.secret).not.toBe(secret);
    expect(Date.parse(rotated.subscription.previous_secret_expires_at) - Date.now()).toBeGreaterThan(85 * 60_000);

    expect(JSON.parse((await cli('subscriptions', 'replay', id, '--from-position', '5.0', '--json')).out)).toMatchObject({ position: '5.0', dispatched: '5.0' });
    expect((await cli('subscriptions', 'replay', id, '--since', '2026-01-01T00:00:00Z')).code).toBe(0);
    const ahead = await cli('subscriptions', 'replay', id, '--from-position', '18446744073709551615.0');
    expect(ahead.code).toBe(1);
    expect(ahead.err).toMatch(/The feed ends at \d+\.0; a replay from 18446744073709551615\.0 would skip/);
    expect(JSON.parse((await cli('subscriptions', 'deliveries', id, '--undelivered', '--json')).out)).toEqual([]);
    const shown = await cli('subscriptions', 'show', id);
    expect(shown.out).toContain('https://hooks.example.invalid/b');
    expect(shown.out).toMatch(/^WEBHOOK-ID\s+CHANGE\s+ATTEMPTS\s+DELIVERED\s+CODE\s+LAST ERROR$/m);
    expect(shown.out).toContain('0 delivery(ies)');
    expect(JSON.parse((await cli('subscriptions', 'show', id, '--undelivered', '--limit', '3', '--json')).out)).toEqual({ subscription: expect.objectContaining({ id }), deliveries: [] });

    expect((await cli('subscriptions', 'delete', id)).code).toBe(0);
    const gone = await cli('subscriptions', 'show', id);
    expect(gone.code).toBe(3);
    expect(gone.err).toContain(`No subscription with id ${id}`);
  });

  it('lists the deliveries with their attempts', async () => {
    const { id } = JSON.parse((await cli('subscriptions', 'add', '--url', 'https://hooks.example.invalid/busy', '--json')).out).subscription;
    const eventId = await failedDelivery(id);

    const listed = await cli('subscriptions', 'deliveries', id, '--undelivered');
    expect(listed.code).toBe(0);
    expect(listed.out).toMatch(new RegExp(`^${eventId}\\s+WITHDRAWAL CONFIRMED\\s+2\\s+next \\S+\\s+503\\s+status_5xx: busy$`, 'm'));
    expect(JSON.parse((await cli('subscriptions', 'deliveries', id, '--limit', '1', '--json')).out)).toEqual([
      expect.objectContaining({ event_id: eventId, attempts: 2, last_response_code: 503, delivered_at: null, in_flight: false }),
    ]);
    expect((await cli('subscriptions', 'show', id)).out).toContain('undelivered: 1, oldest recorded');

    // A third attempt under way, as a worker claims it: shown as being sent.
    await updateDeliveries("SET attempts = 3, in_flight = true, next_attempt_at = now() + interval '35 seconds' WHERE subscription_id = $1", [id]);
    expect((await cli('subscriptions', 'deliveries', id)).out).toMatch(new RegExp(`^${eventId}\\s+WITHDRAWAL CONFIRMED\\s+3\\s+sending\\s+503\\s+status_5xx: busy$`, 'm'));
    expect(JSON.parse((await cli('subscriptions', 'deliveries', id, '--json')).out)).toEqual([expect.objectContaining({ attempts: 3, in_flight: true })]);
  });

  it.each([
    [['subscriptions', 'add']],
    [['subscriptions', 'add', '--url', 'https://10.0.0.1/hook']],
    [['subscriptions', 'add', '--url', 'https://hooks.example.invalid/', '--kinds', 'ORDER']],
    [['subscriptions', 'show', 'not-a-uuid']],
    [['subscriptions', 'replay', '00000000-0000-4000-8000-000000000001']],
    [['subscriptions', 'rotate-secret', '00000000-0000-4000-8000-000000000001', '--overlap', 'a while']],
    [['subscriptions', 'add', '--url', 'https://hooks.example.invalid/', '--kinds', 'WITHDRAWAL', '--all-kinds']],
    [['subscriptions', 'deliveries', '00000000-0000-4000-8000-000000000001', '--limit', '0']],
    [['subscriptions', 'frobnicate']],
  ])('exits 2 for %j', async (argv) => {
    expect((await cli(...argv)).code).toBe(2);
  });

  it('checks the arguments, the URL included, before it connects to the database', async () => {
    const unreachable = { ...environment, DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none', MIGRATE_ON_START: 'true' };
    const refused = await runCliCapturing(['subscriptions', 'add', '--url', 'https://169.254.169.254/'], unreachable);
    expect(refused.code).toBe(2);
    expect(refused.err).toContain('refused target 169.254.169.254');
    expect((await runCliCapturing(['subscriptions', 'list'], unreachable)).code).toBe(1);
  });

  it('adds an internal address that PUSH_ALLOWED_TARGETS names', async () => {
    const allowing = { ...environment, PUSH_ALLOWED_TARGETS: '10.20.0.0/16' };
    expect((await runCliCapturing(['subscriptions', 'add', '--url', 'https://10.20.0.5/hook'], allowing)).code).toBe(0);
    expect((await runCliCapturing(['subscriptions', 'add', '--url', 'https://10.21.0.5/hook'], allowing)).code).toBe(2);
  });

  it('exits 3 for an unknown subscription', async () => {
    const unknown = '00000000-0000-4000-8000-00000000ffff';
    for (const subcommand of ['show', 'disable', 'delete', 'rotate-secret', 'deliveries']) {
      expect({ subcommand, code: (await cli('subscriptions', subcommand, unknown)).code }).toEqual({ subcommand, code: 3 });
    }
  });

  it('refuses http:// in production unless PUSH_ALLOW_HTTP', async () => {
    const production = { ...environment, NODE_ENV: 'production', UPVEST_WEBHOOK_JWKS: JSON.stringify(providerKeys.jwks) };
    const refused = await runCliCapturing(['subscriptions', 'add', '--url', 'http://hooks.example.invalid/'], production);
    expect(refused.code).toBe(2);
    expect(refused.err).toContain('http:// is not allowed in production');
    expect((await runCliCapturing(['subscriptions', 'add', '--url', 'http://hooks.example.invalid/'], { ...production, PUSH_ALLOW_HTTP: 'true' })).code).toBe(0);
  });
});

async function updateDeliveries(assignmentsAndCondition: string, values: unknown[]): Promise<void> {
  const pool = new Pool({ connectionString: database.url, max: 1 });
  try {
    await pool.query(`UPDATE push_deliveries ${assignmentsAndCondition}`, values);
  } finally {
    await pool.end();
  }
}

/** A change of a withdrawal, and an attempt to send it that the subscriber answered 503, as the worker records them; returns the event id. */
async function failedDelivery(subscriptionId: string): Promise<string> {
  const pool = new Pool({ connectionString: database.url, max: 1 });
  try {
    const eventId = randomUUID();
    const { rows } = await pool.query(
      `INSERT INTO payment_status_history (payment_kind, payment_id, event_id, event_type, event_created_at, event_status, status, status_changed)
       VALUES ('WITHDRAWAL', $1, $2, 'WITHDRAWAL.CONFIRMED', now(), 'CONFIRMED', 'CONFIRMED', true) RETURNING id, transaction_id, payment_id`,
      [randomUUID(), eventId],
    );
    await pool.query(
      `INSERT INTO push_deliveries (subscription_id, history_id, transaction_id, payment_kind, payment_id, recorded_at, attempts,
         first_attempt_at, last_attempt_at, next_attempt_at, last_response_code, last_error)
       VALUES ($1, $2, $3, 'WITHDRAWAL', $4, now(), 2, now(), now(), now() + interval '1 minute', 503, 'status_5xx: busy')`,
      [subscriptionId, rows[0].id, rows[0].transaction_id, rows[0].payment_id],
    );
    return eventId;
  } finally {
    await pool.end();
  }
}
