import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { Pool } from 'pg';
import { adminOpenApiDocument } from '../../src/admin/adminOpenApiDocument';
import { SubscriptionUrlPolicy } from '../../src/push/SubscriptionUrlPolicy';
import { TargetAllowList } from '../../src/push/targetAddresses';
import { eventually } from '../support/testService';
import { AdminHarness, AUTHORIZED, confirmedWithdrawal, startAdminHarness } from './adminHarness';

let admin: AdminHarness;
let pool: Pool;

beforeAll(async () => {
  admin = await startAdminHarness();
  pool = new Pool({ connectionString: admin.harness.database.url, max: 1 });
});

afterAll(async () => {
  await pool.end();
  await admin.stop();
});

const api = () => request(admin.app);
const add = (body: object) => api().post('/admin/subscriptions').set(AUTHORIZED).send(body);

describe('the admin API of push subscriptions', () => {
  it('adds a subscription and shows its secret only in that answer', async () => {
    const added = await add({ url: 'https://hooks.example.invalid/payments', description: 'ledger', payment_kinds: ['WITHDRAWAL'], statuses: ['CONFIRMED', 'CANCELLED'] });

    expect(added.status).toBe(201);
    expect(added.body.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(added.body.subscription).toMatchObject({
      url: 'https://hooks.example.invalid/payments',
      description: 'ledger',
      payment_kinds: ['WITHDRAWAL'],
      statuses: ['CONFIRMED', 'CANCELLED'],
      state: 'active',
      undelivered: 0,
      previous_secret_expires_at: null,
    });
    expect(added.body.subscription.position).toMatch(/^[0-9]+\.0$/);
    const { id } = added.body.subscription;
    const shown = await api().get(`/admin/subscriptions/${id}`).set(AUTHORIZED);
    const listed = await api().get('/admin/subscriptions').set(AUTHORIZED);
    expect(shown.body).toEqual(added.body.subscription);
    expect(listed.body.subscriptions.map((subscription: { id: string }) => subscription.id)).toContain(id);
    expect(JSON.stringify([shown.body, listed.body])).not.toContain(added.body.secret);
  });

  it('changes the filters, disables, enables and deletes', async () => {
    const { id } = (await add({ url: 'https://hooks.example.invalid/a' })).body.subscription;
    const changed = await api().patch(`/admin/subscriptions/${id}`).set(AUTHORIZED).send({ url: 'https://hooks.example.invalid/b', statuses: ['CONFIRMED'] });
    expect(changed.status).toBe(200);
    expect(changed.body).toMatchObject({ url: 'https://hooks.example.invalid/b', payment_kinds: null, statuses: ['CONFIRMED'] });
    expect((await api().patch(`/admin/subscriptions/${id}`).set(AUTHORIZED).send({ statuses: null })).body.statuses).toBeNull();

    expect((await api().post(`/admin/subscriptions/${id}/disable`).set(AUTHORIZED)).body.state).toBe('disabled');
    expect((await api().post(`/admin/subscriptions/${id}/enable`).set(AUTHORIZED)).body.state).toBe('active');
    expect((await api().delete(`/admin/subscriptions/${id}`).set(AUTHORIZED)).status).toBe(204);
    expect((await api().get(`/admin/subscriptions/${id}`).set(AUTHORIZED)).status).toBe(404);
    expect((await api().delete(`/admin/subscriptions/${id}`).set(AUTHORIZED)).status).toBe(404);
  });

  it('rotates the secret with an overlap', async () => {
    const added = (await add({ url: 'https://hooks.example.invalid/rotating' })).body;
    const rotated = await api().post(`/admin/subscriptions/${added.subscription.id}/rotate-secret`).set(AUTHORIZED).send({ overlap_seconds: 3600 });

    expect(rotated.status).toBe(200);
    expect(rotated.body.secret).toMatch(/^whsec_/);
    expect(rotated.body.secret).not.toBe(added.secret);
    const expires = Date.parse(rotated.body.subscription.previous_secret_expires_at);
    expect(expires - Date.now()).toBeGreaterThan(3500_000);
    expect(expires - Date.now()).toBeLessThan(3700_000);
    const { rows } = await pool.query('SELECT secrets FROM push_subscriptions WHERE id = $1', [added.subscription.id]);
    expect(rows[0].secrets).toEqual([rotated.body.secret, added.secret]);
  });

  it('replays from a position or a time, and lists the deliveries', async () => {
    const { id } = (await add({ url: 'https://hooks.example.invalid/replay' })).body.subscription;
    const fromPosition = await api().post(`/admin/subscriptions/${id}/replay`).set(AUTHORIZED).send({ position: '1.0' });
    expect(fromPosition.status).toBe(200);
    expect(fromPosition.body).toMatchObject({ position: '1.0', dispatched: '1.0' });
    const sinceTime = await api().post(`/admin/subscriptions/${id}/replay`).set(AUTHORIZED).send({ since: '2026-01-01T00:00:00+01:00' });
    expect(sinceTime.status).toBe(200);

    // Beyond the feed's end, the changes on the way would be skipped: refused, and the position stays.
    const ahead = await api().post(`/admin/subscriptions/${id}/replay`).set(AUTHORIZED).send({ position: '18446744073709551615.0' });
    expect(ahead.status).toBe(409);
    expect(ahead.body).toMatchObject({ type: expect.stringMatching(/replay-position-ahead$/), detail: expect.stringMatching(/^The feed ends at \d+\.0; a replay from 18446744073709551615\.0/) });
    const unchanged = (await api().get(`/admin/subscriptions/${id}`).set(AUTHORIZED)).body;
    expect(unchanged.position).toBe(sinceTime.body.position);
    const end = ahead.body.detail.match(/^The feed ends at (\d+\.0)/)[1];
    expect((await api().post(`/admin/subscriptions/${id}/replay`).set(AUTHORIZED).send({ position: end })).status).toBe(200);

    const deliveries = await api().get(`/admin/subscriptions/${id}/deliveries?undelivered=true&limit=5`).set(AUTHORIZED);
    expect(deliveries.status).toBe(200);
    expect(deliveries.body).toEqual({ deliveries: [], limit: 5 });
  });

  it("lists a subscription's deliveries, newest change first, with their attempts", async () => {
    const { id } = (await add({ url: 'https://unresolvable.example.invalid/hook', payment_kinds: ['WITHDRAWAL'] })).body.subscription;
    const paymentId = randomUUID();
    await confirmedWithdrawal(admin.harness, paymentId);

    const deliveriesOf = (query: string) => api().get(`/admin/subscriptions/${id}/deliveries?${query}`).set(AUTHORIZED);
    // The name never resolves, so the attempts at the payment's first change fail, and its later changes wait behind it.
    const tried = await eventually(async () => {
      const { body } = await deliveriesOf('undelivered=true');
      // An attempt is counted when it starts; its error is recorded when it ends.
      return body.deliveries.length === 3 && body.deliveries[2].last_error !== null && body.deliveries;
    }, 20000, 'a failed attempt');
    expect(tried.map((delivery: { status: string }) => delivery.status)).toEqual(['CONFIRMED', 'PROCESSING', 'NEW']);
    expect(tried[2]).toMatchObject({ payment_kind: 'WITHDRAWAL', payment_id: paymentId, delivered_at: null, last_response_code: null });
    expect(tried[2].last_error).toMatch(/connection/);
    expect(tried[2].next_attempt_at).not.toBeNull();
    expect(tried[0].attempts).toBe(0);
    expect((await deliveriesOf('limit=1')).body).toEqual({ deliveries: [expect.objectContaining({ status: 'CONFIRMED' })], limit: 1 });
    expect((await api().get(`/admin/subscriptions/${id}`).set(AUTHORIZED)).body.undelivered).toBe(3);
    await api().delete(`/admin/subscriptions/${id}`).set(AUTHORIZED);
  });

  it('refuses http:// where it is not allowed, and internal addresses unless PUSH_ALLOWED_TARGETS names them', async () => {
    const production = admin.adminApp(new SubscriptionUrlPolicy(false, new TargetAllowList(['10.20.0.0/16'])));
    const addTo = (url: string) => request(production).post('/admin/subscriptions').set(AUTHORIZED).send({ url });

    const insecure = await addTo('http://hooks.example.invalid/');
    expect(insecure.status).toBe(400);
    expect(insecure.type).toBe('application/problem+json');
    expect(insecure.body.detail).toContain('http:// is not allowed in production');
    for (const url of ['https://127.0.0.1/', 'https://169.254.169.254/latest/meta-data/', 'https://[::ffff:127.0.0.1]/', 'https://10.21.0.1/']) {
      const refused = await addTo(url);
      expect({ url, status: refused.status, detail: refused.body.detail }).toEqual({ url, status: 400, detail: expect.stringContaining('refused target') });
    }
    const allowed = await addTo('https://10.20.0.5/hook');
    expect(allowed.status).toBe(201);
    const { id } = allowed.body.subscription;
    expect((await request(production).patch(`/admin/subscriptions/${id}`).set(AUTHORIZED).send({ url: 'http://10.20.0.5/hook' })).status).toBe(400);
    expect((await request(production).patch(`/admin/subscriptions/${id}`).set(AUTHORIZED).send({ url: 'https://169.254.169.254/' })).status).toBe(400);
    await api().delete(`/admin/subscriptions/${id}`).set(AUTHORIZED);
  });

  it.each([
    ['no URL', {}],
    ['a URL that is not http(s)', { url: 'ftp://hooks.example.invalid/' }],
    ['an unknown kind', { url: 'https://hooks.example.invalid/', payment_kinds: ['ORDER'] }],
    ['an empty list of statuses', { url: 'https://hooks.example.invalid/', statuses: [] }],
    ['an unknown field', { url: 'https://hooks.example.invalid/', secret: 'whsec_mine' }],
    ['a loopback address', { url: 'https://127.0.0.1/hook' }],
    ['the metadata address', { url: 'http://169.254.169.254/latest/meta-data/' }],
    ['a private address', { url: 'https://10.0.0.7/hook' }],
  ])('answers 400 to %s', async (_, body) => {
    const answer = await add(body);
    expect(answer.status).toBe(400);
    expect(answer.type).toBe('application/problem+json');
  });

  it('answers 400 to bad ids, replays and queries, 404 to an unknown subscription, 401 without the token', async () => {
    const unknown = '00000000-0000-4000-8000-00000000ffff';
    expect((await api().get('/admin/subscriptions/not-a-uuid').set(AUTHORIZED)).status).toBe(400);
    expect((await api().get(`/admin/subscriptions/${unknown}`).set(AUTHORIZED)).status).toBe(404);
    expect((await api().post(`/admin/subscriptions/${unknown}/rotate-secret`).set(AUTHORIZED).send({})).status).toBe(404);
    const { id } = (await add({ url: 'https://hooks.example.invalid/c' })).body.subscription;
    expect((await api().post(`/admin/subscriptions/${id}/replay`).set(AUTHORIZED).send({ position: 'start' })).status).toBe(400);
    expect((await api().post(`/admin/subscriptions/${id}/replay`).set(AUTHORIZED).send({ since: 'yesterday' })).status).toBe(400);
    expect((await api().patch(`/admin/subscriptions/${id}`).set(AUTHORIZED).send({})).status).toBe(400);
    expect((await api().get(`/admin/subscriptions/${id}/deliveries?limit=0`).set(AUTHORIZED)).status).toBe(400);
    expect((await api().post(`/admin/subscriptions/${id}/replay`).set(AUTHORIZED).send({ position: '99999999999999999999.0' })).status).toBe(400);
    expect((await api().post(`/admin/subscriptions/${id}/replay`).set(AUTHORIZED).send({ position: '1.0', since: '2026-01-01T00:00:00Z' })).status).toBe(400);
    expect((await api().post(`/admin/subscriptions/${id}/rotate-secret`).set(AUTHORIZED).send({ overlap_seconds: -1 })).status).toBe(400);
    expect((await api().post(`/admin/subscriptions/${id}/rotate-secret`).set(AUTHORIZED).send({ overlap_seconds: null })).status).toBe(400);
    expect((await api().post(`/admin/subscriptions/${id}/rotate-secret`).set(AUTHORIZED).send({ overlap_seconds: 31 * 86400 })).status).toBe(400);
    expect((await api().get('/admin/subscriptions')).status).toBe(401);
  });

  it('describes every route of the admin router in its OpenAPI document', async () => {
    const served = await api().get('/admin/openapi.json').set(AUTHORIZED);
    expect(served.status).toBe(200);
    expect(served.body).toEqual(JSON.parse(JSON.stringify(adminOpenApiDocument())));
    const documented = Object.entries(served.body.paths as Record<string, object>).flatMap(([path, operations]) =>
      Object.keys(operations).map((method) => `${method.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`),
    );
    expect(documented.sort()).toEqual(adminRoutes().sort());
    expect((await api().get('/admin/openapi.json')).status).toBe(401);
    for (const ref of new Set(JSON.stringify(served.body).match(/(?<="\$ref":"#\/)[^"]+/g))) {
      const target = ref.split('/').reduce((node: Record<string, unknown> | undefined, key) => node?.[key] as Record<string, unknown> | undefined, served.body);
      expect({ ref, resolved: target !== undefined }).toEqual({ ref, resolved: true });
    }
  });
});

/** Every route the admin router registers (bull-board's UI under /queues aside), as `METHOD /admin/path`. */
function adminRoutes(): string[] {
  type Layer = { route?: { path: string; methods: Record<string, boolean> }; handle?: { stack?: Layer[] } };
  const adminLayer = (admin.app.router.stack as Layer[]).find((layer) => layer.handle?.stack?.some((inner) => inner.route !== undefined));
  return (adminLayer?.handle?.stack ?? []).flatMap((layer) =>
    layer.route === undefined ? [] : Object.keys(layer.route.methods).map((method) => `${method.toUpperCase()} /admin${layer.route!.path}`),
  );
}
