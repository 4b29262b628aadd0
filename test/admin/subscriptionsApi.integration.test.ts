import request from 'supertest';
import { Pool } from 'pg';
import { adminOpenApiDocument } from '../../src/admin/adminOpenApiDocument';
import { AdminHarness, AUTHORIZED, startAdminHarness } from './adminHarness';

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
    const added = await add({ url: 'https://hooks.example.com/payments', description: 'ledger', payment_kinds: ['WITHDRAWAL'], statuses: ['CONFIRMED', 'CANCELLED'] });

    expect(added.status).toBe(201);
    expect(added.body.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(added.body.subscription).toMatchObject({
      url: 'https://hooks.example.com/payments',
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
    const { id } = (await add({ url: 'https://hooks.example.com/a' })).body.subscription;
    const changed = await api().patch(`/admin/subscriptions/${id}`).set(AUTHORIZED).send({ url: 'https://hooks.example.com/b', statuses: ['CONFIRMED'] });
    expect(changed.status).toBe(200);
    expect(changed.body).toMatchObject({ url: 'https://hooks.example.com/b', payment_kinds: null, statuses: ['CONFIRMED'] });
    expect((await api().patch(`/admin/subscriptions/${id}`).set(AUTHORIZED).send({ statuses: null })).body.statuses).toBeNull();

    expect((await api().post(`/admin/subscriptions/${id}/disable`).set(AUTHORIZED)).body.state).toBe('disabled');
    expect((await api().post(`/admin/subscriptions/${id}/enable`).set(AUTHORIZED)).body.state).toBe('active');
    expect((await api().delete(`/admin/subscriptions/${id}`).set(AUTHORIZED)).status).toBe(204);
    expect((await api().get(`/admin/subscriptions/${id}`).set(AUTHORIZED)).status).toBe(404);
    expect((await api().delete(`/admin/subscriptions/${id}`).set(AUTHORIZED)).status).toBe(404);
  });

  it('rotates the secret with an overlap', async () => {
    const added = (await add({ url: 'https://hooks.example.com/rotating' })).body;
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
    const { id } = (await add({ url: 'https://hooks.example.com/replay' })).body.subscription;
    const fromPosition = await api().post(`/admin/subscriptions/${id}/replay`).set(AUTHORIZED).send({ position: '1.0' });
    expect(fromPosition.status).toBe(200);
    expect(fromPosition.body).toMatchObject({ position: '1.0', dispatched: '1.0' });
    const sinceTime = await api().post(`/admin/subscriptions/${id}/replay`).set(AUTHORIZED).send({ since: '2026-01-01T00:00:00+01:00' });
    expect(sinceTime.status).toBe(200);

    const deliveries = await api().get(`/admin/subscriptions/${id}/deliveries?undelivered=true&limit=5`).set(AUTHORIZED);
    expect(deliveries.status).toBe(200);
    expect(deliveries.body).toEqual({ deliveries: [], limit: 5 });
  });

  it.each([
    ['no URL', {}],
    ['a URL that is not http(s)', { url: 'ftp://hooks.example.com/' }],
    ['an unknown kind', { url: 'https://hooks.example.com/', payment_kinds: ['ORDER'] }],
    ['an empty list of statuses', { url: 'https://hooks.example.com/', statuses: [] }],
    ['an unknown field', { url: 'https://hooks.example.com/', secret: 'whsec_mine' }],
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
    const { id } = (await add({ url: 'https://hooks.example.com/c' })).body.subscription;
    expect((await api().post(`/admin/subscriptions/${id}/replay`).set(AUTHORIZED).send({ position: 'start' })).status).toBe(400);
    expect((await api().post(`/admin/subscriptions/${id}/replay`).set(AUTHORIZED).send({ since: 'yesterday' })).status).toBe(400);
    expect((await api().patch(`/admin/subscriptions/${id}`).set(AUTHORIZED).send({})).status).toBe(400);
    expect((await api().get(`/admin/subscriptions/${id}/deliveries?limit=0`).set(AUTHORIZED)).status).toBe(400);
    expect((await api().post(`/admin/subscriptions/${id}/rotate-secret`).set(AUTHORIZED).send({ overlap_seconds: -1 })).status).toBe(400);
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
