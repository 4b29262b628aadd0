import express, { Express } from 'express';
import request from 'supertest';
import { ChangeCursors } from '../../src/changes/ChangeCursors';
import { ChangeFeed } from '../../src/changes/ChangeFeed';
import { ChangeNotifications } from '../../src/changes/ChangeNotifications';
import { createPrismaClient, PrismaClient } from '../../src/database/prismaClient';
import { PaymentEvent } from '../../src/events/upvestEvents';
import { createLogger } from '../../src/logging/logger';
import { ProjectionStore } from '../../src/projection/ProjectionStore';
import { ChangeRoutesOptions } from '../../src/readApi/changeRoutes';
import { createReadApiRouter } from '../../src/readApi/createReadApiRouter';
import { OPENAPI_DOCUMENT } from '../../src/readApi/openApiDocument';
import { PaymentReader } from '../../src/readApi/PaymentReader';
import { wireReadApiRouter } from '../../src/wiring/readApiRouter';
import { openDatabase } from '../../src/wiring/infrastructure';
import { OpenResources } from '../../src/wiring/OpenResources';
import { directDebitEvent, EventOptions, ProviderEvent, withdrawalEvent } from '../../testkit/paymentEvents';
import { createTestDatabase, TestDatabase } from '../support/testDatabase';
import { mismatches, responseSchema } from './openApiShape';

const TOKEN = 'read-api-test-token-0123456789';
const USER_A = 'aaaaaaaa-0000-4000-8000-000000000001';
const USER_B = 'bbbbbbbb-0000-4000-8000-000000000002';
const GROUP_1 = '11111111-0000-4000-8000-000000000001';
const GROUP_2 = '22222222-0000-4000-8000-000000000002';
const W1 = '10000000-0000-4000-8000-000000000001';
const W2 = '10000000-0000-4000-8000-000000000002';
const W3 = '10000000-0000-4000-8000-000000000003';
const W4 = '10000000-0000-4000-8000-000000000004';
// The same id as a withdrawal: the history must keep the two kinds apart.
const D1 = W1;
const D2 = '20000000-0000-4000-8000-000000000002';

const owner = (user: string, group: string) => ({ user_id: user, account_group_id: group });
const builder =
  (build: (options: EventOptions) => ProviderEvent) =>
  (paymentId: string, status: EventOptions['status'], createdAt: string, object: Record<string, unknown>) =>
    build({ paymentId, status, createdAt, object });
const withdrawal = builder(withdrawalEvent);
const directDebit = builder(directDebitEvent);

const W1_OBJECT = { ...owner(USER_A, GROUP_1), purpose_code: 'CASH' };
const W1_EVENTS = [withdrawal(W1, 'NEW', '2026-02-01T09:00:00Z', W1_OBJECT), withdrawal(W1, 'CONFIRMED', '2026-02-01T11:00:00Z', W1_OBJECT)];
// Arrives after CONFIRMED: recorded in the history, changes nothing.
const W1_LATE = withdrawal(W1, 'PROCESSING', '2026-02-01T10:00:00Z', W1_OBJECT);

describe('read API', () => {
  let database: TestDatabase;
  let prisma: PrismaClient;
  let app: Express;
  let resources: OpenResources;
  /** The change feed's pieces, for the routers built by hand below: these tests read no changes. */
  let changes: ChangeRoutesOptions;

  beforeAll(async () => {
    database = await createTestDatabase();
    prisma = createPrismaClient(database.url, 2);
    const store = new ProjectionStore(prisma);
    const project = (events: ProviderEvent[], source?: 'reconciliation') =>
      store.projectBatch(events.map((event) => ({ event: event as unknown as PaymentEvent, receivedAt: '2026-02-02T00:00:00Z', source })));
    await project([
      ...W1_EVENTS,
      withdrawal(W2, 'NEW', '2026-02-01T09:00:00Z', { ...owner(USER_A, GROUP_2), amount: '999999999.99' }),
      withdrawal(W3, 'PROCESSING', '2026-02-01T09:00:00Z', owner(USER_B, GROUP_1)),
      withdrawal(W4, 'CANCELLED', '2026-02-01T09:00:00Z', owner(USER_B, GROUP_1)),
      directDebit(D1, 'NEW', '2026-02-01T09:00:00Z', { ...owner(USER_A, GROUP_1), cash_amount: '50' }),
      directDebit(D2, 'CONFIRMED', '2026-02-01T09:00:00Z', owner(USER_B, GROUP_2)),
    ]);
    await project([W1_LATE, directDebit(D1, 'CANCELLED', '2026-02-01T12:00:00Z', { ...owner(USER_A, GROUP_1), cash_amount: '50' })], 'reconciliation');
    // Fixed projection times, so that order and updated_since are deterministic; W3 and W4 tie and are ordered by id.
    await prisma.$executeRawUnsafe(`UPDATE withdrawals SET projected_at = CASE id::text
      WHEN '${W1}' THEN '2026-03-01T10:00:00Z'::timestamptz WHEN '${W2}' THEN '2026-03-01T11:00:00Z' ELSE '2026-03-01T12:00:00.123456Z' END`);
    await prisma.$executeRawUnsafe(`UPDATE withdrawals SET reconciled_at = '2026-03-02T00:00:00Z' WHERE id = '${W2}'`);
    await prisma.$executeRawUnsafe(`UPDATE direct_debits SET projected_at = CASE id::text WHEN '${D1}' THEN '2026-03-01T10:00:00Z'::timestamptz ELSE '2026-03-01T11:00:00Z' END`);
    const logger = createLogger('error', true);
    resources = new OpenResources(logger);
    app = express();
    const readDatabase = openDatabase(database.url, 2, resources);
    app.use(wireReadApiRouter(TOKEN, database.url, logger, readDatabase, resources));
    changes = { feed: new ChangeFeed(readDatabase.pool), cursors: new ChangeCursors(TOKEN), notifications: new ChangeNotifications(database.url, logger) };
  });

  afterAll(async () => {
    await resources.closeAll();
    await prisma.$disconnect();
    await database.drop();
  });

  /** Every answer is also checked against the OpenAPI document. */
  async function get(path: string, token: string | null = TOKEN): Promise<request.Response> {
    const call = request(app).get(path);
    const response = await (token === null ? call : call.set('Authorization', `Bearer ${token}`));
    const contentType = String(response.headers['content-type']).split(';')[0];
    const schema = responseSchema(OPENAPI_DOCUMENT, path.split('?')[0], response.status, contentType);
    expect({ path, status: response.status, schema: schema !== undefined }).toEqual({ path, status: response.status, schema: true });
    expect(mismatches(OPENAPI_DOCUMENT, schema ?? {}, response.body)).toEqual([]);
    return response;
  }
  const ids = (response: request.Response) => response.body.data.map((item: { id: string }) => item.id);
  const expectProblem = (response: request.Response, status: number, detail: RegExp) => {
    expect(response.status).toBe(status);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(response.body).toEqual({ type: expect.stringMatching(/^urn:/), title: expect.any(String), status, detail: expect.stringMatching(detail) });
  };

  describe('authentication', () => {
    it('refuses a missing token with 401 and WWW-Authenticate: Bearer', async () => {
      const response = await get('/v1/withdrawals', null);
      expectProblem(response, 401, /bearer token is required/);
      expect(response.headers['www-authenticate']).toBe('Bearer');
    });

    it('refuses a wrong token, also one that only shares a prefix', async () => {
      for (const token of ['wrong', `${TOKEN}x`, TOKEN.slice(0, -1)]) {
        const response = await get(`/v1/withdrawals/${W1}`, token);
        expectProblem(response, 401, /not valid/);
        expect(response.headers['www-authenticate']).toBe('Bearer error="invalid_token"');
      }
    });

    it('refuses another scheme', async () => {
      const response = await request(app).get('/v1/direct-debits').set('Authorization', `Basic ${TOKEN}`);
      expectProblem(response, 401, /required/);
    });

    it('takes the scheme in any case and marks answers as not cacheable', async () => {
      const response = await request(app).get('/v1/withdrawals').set('Authorization', `bearer ${TOKEN}`);
      expect(response.status).toBe(200);
      expect(response.headers['cache-control']).toBe('no-store');
    });

    it('serves the OpenAPI document without a token', async () => {
      const response = await request(app).get('/v1/openapi.json');
      expect(response.status).toBe(200);
      expect(response.headers['content-type']).toMatch(/^application\/json/);
      expect(response.body).toEqual(JSON.parse(JSON.stringify(OPENAPI_DOCUMENT)));
    });
  });

  describe('GET /v1/withdrawals/{id}', () => {
    it('answers the row with its whole history, oldest event first', async () => {
      const response = await get(`/v1/withdrawals/${W1}`);

      expect(response.status).toBe(200);
      const { history, ...withdrawal } = response.body;
      expect(withdrawal).toEqual({
        id: W1,
        user_id: USER_A,
        account_group_id: GROUP_1,
        reference_account_id: '295378ec-036e-4f3f-ae5c-2be85c93e837',
        amount: '200.00',
        currency: 'EUR',
        remittance_information: 'Withdrawal',
        purpose_code: 'CASH',
        status: 'CONFIRMED',
        created_at: '2020-08-24T14:15:22.000000Z',
        updated_at: '2026-02-01T11:00:00.000000Z',
        status_since: '2026-02-01T11:00:00.000000Z',
        projected_at: '2026-03-01T10:00:00.000000Z',
        reconciled_at: null,
      });
      expect(Object.keys(response.body).at(-1)).toBe('history');
      expect(history.map((entry: Record<string, unknown>) => [entry.event_type, entry.previous_status, entry.status, entry.status_changed, entry.source])).toEqual([
        ['WITHDRAWAL.NEW', null, 'NEW', true, 'webhook'],
        ['WITHDRAWAL.PROCESSING', 'CONFIRMED', 'CONFIRMED', false, 'reconciliation'],
        ['WITHDRAWAL.CONFIRMED', 'NEW', 'CONFIRMED', true, 'webhook'],
      ]);
      expect(history[1]).toEqual({
        event_id: W1_LATE.id,
        event_type: 'WITHDRAWAL.PROCESSING',
        event_created_at: '2026-02-01T10:00:00.000000Z',
        event_status: 'PROCESSING',
        previous_status: 'CONFIRMED',
        status: 'CONFIRMED',
        status_changed: false,
        source: 'reconciliation',
        recorded_at: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/),
      });
    });

    it('keeps money exactly as stored and shows reconciled_at', async () => {
      const { body } = await get(`/v1/withdrawals/${W2.toUpperCase()}`);
      expect([body.id, body.amount, body.reconciled_at, body.history.length]).toEqual([W2, '999999999.99', '2026-03-02T00:00:00.000000Z', 1]);
    });

    it('answers 404 for an unknown id and 400 for an invalid one', async () => {
      expectProblem(await get('/v1/withdrawals/99999999-0000-4000-8000-000000000009'), 404, /No withdrawal with id 99999999-/);
      expectProblem(await get('/v1/withdrawals/not-a-uuid'), 400, /'not-a-uuid' is not a uuid/);
      expectProblem(await get(`/v1/withdrawals/${D2}`), 404, /No withdrawal/);
    });

    it('answers 400 for a path that is not valid percent-encoding', async () => {
      expectProblem(await get('/v1/withdrawals/%ZZ'), 400, /Failed to decode/);
    });

    it('refuses query parameters', async () => {
      expectProblem(await get(`/v1/withdrawals/${W1}?expand=history`), 400, /unknown query parameter\(s\): expand/);
    });
  });

  describe('GET /v1/direct-debits/{id}', () => {
    it('answers the direct debit with its own history only', async () => {
      const { status, body } = await get(`/v1/direct-debits/${D1}`);

      expect(status).toBe(200);
      expect(body).toMatchObject({ id: D1, mandate_id: '730b8719-0bc6-401d-98dd-b2de72afbf05', cash_amount: '50.00', status: 'CANCELLED' });
      expect(body).not.toHaveProperty('amount');
      expect(body.history.map((entry: { event_type: string }) => entry.event_type)).toEqual(['DIRECT_DEBIT.NEW', 'DIRECT_DEBIT.CANCELLED']);
    });

    it('answers 404 for an unknown id', async () => {
      expectProblem(await get(`/v1/direct-debits/${W2}`), 404, /No direct debit with id/);
    });
  });

  describe('lists', () => {
    it('lists everything in projection order with the meta of the provider', async () => {
      const response = await get('/v1/withdrawals');

      expect(response.status).toBe(200);
      expect(response.body.meta).toEqual({ count: 4, limit: 100, offset: 0, total_count: 4 });
      expect(ids(response)).toEqual([W1, W2, W3, W4]);
      expect(response.body.data[0]).not.toHaveProperty('history');
      expect(ids(await get('/v1/direct-debits'))).toEqual([D1, D2]);
    });

    it.each([
      ['user_id', USER_A, [W1, W2]],
      ['account_group_id', GROUP_1, [W1, W3, W4]],
      ['status', 'CANCELLED', [W4]],
      ['updated_since', '2026-03-01T11:00:00Z', [W2, W3, W4]],
      ['updated_since', '2026-03-01T13:00:00.123456+01:00', [W3, W4]],
      ['updated_since', '2026-03-01T12:00:00.123457Z', []],
    ])('filters by %s=%s', async (name, value, expected) => {
      const response = await get(`/v1/withdrawals?${name}=${encodeURIComponent(value)}`);
      expect(ids(response)).toEqual(expected);
      expect(response.body.meta.total_count).toBe(expected.length);
    });

    it('combines filters with AND', async () => {
      expect(ids(await get(`/v1/withdrawals?user_id=${USER_B}&account_group_id=${GROUP_1}&status=PROCESSING`))).toEqual([W3]);
      expect(ids(await get(`/v1/direct-debits?user_id=${USER_B}&status=CONFIRMED`))).toEqual([D2]);
    });

    it('pages with limit and offset', async () => {
      const first = await get('/v1/withdrawals?limit=3');
      const second = await get('/v1/withdrawals?limit=3&offset=3');
      const beyond = await get('/v1/withdrawals?limit=3&offset=10');

      expect([first.body.meta, ids(first)]).toEqual([{ count: 3, limit: 3, offset: 0, total_count: 4 }, [W1, W2, W3]]);
      expect([second.body.meta, ids(second)]).toEqual([{ count: 1, limit: 3, offset: 3, total_count: 4 }, [W4]]);
      expect([beyond.body.meta, ids(beyond)]).toEqual([{ count: 0, limit: 3, offset: 10, total_count: 4 }, []]);
    });

    it.each([
      ['user_id=nope', /user_id: must be a uuid/],
      ['status=DONE', /status: must be one of NEW, PROCESSING, CONFIRMED, CANCELLED/],
      ['updated_since=yesterday', /updated_since: must be an RFC 3339 date-time/],
      ['updated_since=2026-02-30T00:00:00Z', /updated_since/],
      ['limit=0', /limit: must be at least 1/],
      ['limit=1001', /limit: must be at most 1000/],
      ['limit=ten', /limit: must be a non-negative integer/],
      ['offset=-1', /offset: must be a non-negative integer/],
      ['limit=1&limit=2', /limit: must be given once/],
      ['userid=x&status=NEW&page=2', /unknown query parameter\(s\): userid, page/],
    ])('answers 400 for %s', async (query, detail) => {
      expectProblem(await get(`/v1/direct-debits?${query}`), 400, detail);
    });
  });

  it('answers 500 problem+json when the database fails', async () => {
    const broken = createPrismaClient('postgresql://postgres@127.0.0.1:1/none', 1);
    const errors: string[] = [];
    const logger = { error: (message: string) => errors.push(message) } as unknown as Parameters<typeof createReadApiRouter>[0]['logger'];
    const brokenApp = express().use(createReadApiRouter({ token: TOKEN, reader: new PaymentReader(broken), changes, logger }));
    try {
      const response = await request(brokenApp).get('/v1/withdrawals').set('Authorization', `Bearer ${TOKEN}`);
      expectProblem(response, 500, /could not be processed/);
      expect(errors).toEqual(['read API request failed']);
    } finally {
      await broken.$disconnect();
    }
  });

  it('leaves paths outside /v1 to the app, also their errors', async () => {
    const outer = express();
    outer.get('/boom', () => {
      throw Object.assign(new Error('teapot'), { status: 418 });
    });
    outer.use(createReadApiRouter({ token: TOKEN, reader: new PaymentReader(prisma), changes }));
    outer.get('/webhooks/upvest', (_request, response) => {
      response.send('webhook');
    });

    expect((await request(outer).get('/webhooks/upvest')).text).toBe('webhook');
    expect((await request(outer).get('/boom')).status).toBe(418);
  });
});
