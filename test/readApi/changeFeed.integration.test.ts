import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client, Pool } from 'pg';
import request from 'supertest';
import { FEED_START, FeedPosition } from '../../src/changes/ChangeCursors';
import { ChangeFeed } from '../../src/changes/ChangeFeed';
import { createPrismaClient } from '../../src/database/prismaClient';
import { PaymentEvent } from '../../src/events/upvestEvents';
import { ProjectionStore } from '../../src/projection/ProjectionStore';
import { OPENAPI_DOCUMENT } from '../../src/readApi/openApiDocument';
import { batchOf, withdrawalEvent } from '../../testkit/paymentEvents';
import { withUnusedBitFlipped } from '../support/cursors';
import { createTestDatabase, TestDatabase } from '../support/testDatabase';
import { ServiceProcess, startServiceFromSources } from '../../testkit/ServiceProcess';
import { deleteRedisKeys, eventually, providerKeys, startTestService, TestService } from '../support/testService';
import { mismatches, responseSchema } from './openApiShape';

const TOKEN = 'read-api-token-for-the-change-feed';
const SOURCES = ['webhook', 'reconciliation', 'backfill'] as const;

describe('the change feed', () => {
  let database: TestDatabase;
  let pool: Pool;

  beforeAll(async () => {
    database = await createTestDatabase();
    pool = new Pool({ connectionString: database.url, max: 30 });
    // pool.end() resolves before its connections have closed; dropping the database (WITH FORCE)
    // then ends them from the server's side, which the pool reports as an error of an idle client.
    pool.on('error', () => undefined);
  });

  afterAll(async () => {
    await pool.end();
    await database.drop();
  });

  /**
   * A status change written in a transaction of its own that takes its xid first, waits, then
   * commits: many of them at once commit in an order other than the one they began in.
   */
  async function slowChange(source: (typeof SOURCES)[number], holdMs: number): Promise<string> {
    const client = await pool.connect();
    const eventId = randomUUID();
    try {
      await client.query('BEGIN');
      await client.query('SELECT pg_current_xact_id()');
      await sleep(holdMs);
      await client.query(
        `INSERT INTO payment_status_history
           (payment_kind, payment_id, event_id, event_type, event_created_at, event_status, previous_status, status, status_changed, source)
         VALUES ('WITHDRAWAL', $1, $2, 'WITHDRAWAL.PROCESSING', now(), 'PROCESSING', 'NEW', 'PROCESSING', true, $3)`,
        [randomUUID(), eventId, source],
      );
      await client.query('COMMIT');
      return eventId;
    } finally {
      client.release();
    }
  }

  it('gives every change exactly once, in a stable order, while transactions commit concurrently and out of order', async () => {
    const feed = new ChangeFeed(pool);
    const prisma = createPrismaClient(database.url, 4);
    const store = new ProjectionStore(prisma);
    const seen: string[] = [];
    let writing = true;
    // The reader follows the feed in small pages while the writers run, as a consumer would.
    const reader = (async () => {
      let position: FeedPosition = FEED_START;
      for (;;) {
        const stillWriting = writing;
        const page = await feed.read(position, 7);
        seen.push(...page.changes.map((change) => change.event_id));
        position = page.next;
        if (page.changes.length === 0) {
          if (!stillWriting) return;
          await sleep(5);
        }
      }
    })();
    const written: string[] = [];
    const writers = Array.from({ length: 60 }, async (_, index) => {
      await sleep((index * 7) % 40);
      if (index % 4 === 0) {
        // The real projection, with its lock and its three statements.
        const event = withdrawalEvent({ paymentId: randomUUID(), status: 'NEW' }) as unknown as PaymentEvent;
        await store.projectBatch([{ event, receivedAt: new Date().toISOString(), source: 'backfill' }]);
        written.push(event.id);
      } else {
        written.push(await slowChange(SOURCES[index % 3], 20 + ((index * 37) % 200)));
      }
    });
    await Promise.all(writers);
    writing = false;
    await reader;
    await prisma.$disconnect();

    expect([...seen].sort()).toEqual([...written].sort());
    expect(new Set(seen).size).toBe(seen.length);
    // Read again from the start: the same order.
    const again: string[] = [];
    for (let position = FEED_START, page = await feed.read(position, 1000); page.changes.length > 0; position = page.next, page = await feed.read(position, 1000)) {
      again.push(...page.changes.map((change) => change.event_id));
    }
    expect(again).toEqual(seen);
  });

  it('holds back changes of transactions that began before a transaction still running', async () => {
    const feed = new ChangeFeed(pool);
    const start = await feed.now();
    const blocker = new Client({ connectionString: database.url });
    await blocker.connect();
    try {
      await blocker.query('BEGIN');
      await blocker.query('SELECT pg_current_xact_id()');
      const later = await slowChange('webhook', 0);

      expect((await feed.read(start, 100)).changes).toEqual([]);
      await blocker.query('COMMIT');
      expect((await feed.read(start, 100)).changes.map((change) => change.event_id)).toEqual([later]);
    } finally {
      await blocker.end();
    }
  });
});

describe('GET /v1/changes', () => {
  let database: TestDatabase;
  let redisPrefix: string;
  let reader: ServiceProcess;
  let projector: TestService;

  beforeAll(async () => {
    database = await createTestDatabase();
    redisPrefix = `test-${process.pid}-${randomUUID().slice(0, 8)}`;
    // Two api processes on one database: the reader's waits, the other one receives and projects.
    reader = await startServiceFromSources({
      ROLE: 'api',
      READ_API_TOKEN: TOKEN,
      DATABASE_URL: database.url,
      REDIS_PREFIX: redisPrefix,
      MIGRATE_ON_START: 'false',
      UPVEST_WEBHOOK_JWKS: JSON.stringify(providerKeys.jwks),
    });
    projector = await startTestService({ READ_API_TOKEN: TOKEN }, { database, redisPrefix });
    // A process of its own starts through tsx: slow on a busy machine.
  }, 120_000);

  afterAll(async () => {
    await reader?.stop('SIGTERM');
    await projector?.stop();
    await deleteRedisKeys(redisPrefix);
    await database.drop();
  }, 60_000);

  /** Every answer is also checked against the OpenAPI document. */
  async function get(service: { baseUrl: string }, path: string): Promise<request.Response> {
    const response = await request(service.baseUrl).get(path).set('Authorization', `Bearer ${TOKEN}`);
    const contentType = String(response.headers['content-type']).split(';')[0];
    const schema = responseSchema(OPENAPI_DOCUMENT, path.split('?')[0], response.status, contentType);
    expect(schema).toBeDefined();
    expect(mismatches(OPENAPI_DOCUMENT, schema ?? {}, response.body)).toEqual([]);
    return response;
  }

  it('wakes a waiting reader on one replica when another commits a change, and times out with the same cursor', async () => {
    const now = await get(reader, '/v1/changes?from=now');
    expect(now.body.changes).toEqual([]);
    const cursor: string = now.body.next;

    const idle = await get(reader, `/v1/changes?after=${cursor}&wait=1`);
    expect(idle.body).toEqual({ changes: [], next: cursor });

    const event = withdrawalEvent({ paymentId: randomUUID(), status: 'NEW' });
    const started = Date.now();
    const waiting = get(reader, `/v1/changes?after=${cursor}&wait=25`);
    await sleep(200);
    expect((await projector.deliver(batchOf(event))).status).toBe(200);
    const woken = await waiting;
    const waitedMs = Date.now() - started;

    expect(woken.body.changes).toEqual([
      expect.objectContaining({ payment_kind: 'WITHDRAWAL', payment_id: event.object.id, previous_status: null, status: 'NEW', event_id: event.id, source: 'webhook' }),
    ]);
    expect(woken.body.next).not.toBe(cursor);
    // Far below the 25 s wait: the notification, not the timeout, answered.
    expect(waitedMs).toBeLessThan(10_000);
  });

  it('filters by kind, status and payment id', async () => {
    const paymentId = randomUUID();
    await projector.deliver(batchOf(withdrawalEvent({ paymentId, status: 'NEW', createdAt: '2026-01-01T00:00:00Z' }), withdrawalEvent({ paymentId, status: 'PROCESSING', createdAt: '2026-01-01T00:01:00Z' })));
    await eventually(async () => (await get(reader, `/v1/changes?payment_id=${paymentId}`)).body.changes.length === 2);

    expect((await get(reader, `/v1/changes?payment_id=${paymentId}&status=PROCESSING`)).body.changes.map((change: { status: string }) => change.status)).toEqual(['PROCESSING']);
    expect((await get(reader, `/v1/changes?payment_id=${paymentId}&kind=DIRECT_DEBIT`)).body.changes).toEqual([]);
  });

  it('starts from a date: every change recorded since, and none of those before the first of them', async () => {
    const before = withdrawalEvent({ paymentId: randomUUID(), status: 'NEW' });
    await projector.deliver(batchOf(before));
    await eventually(async () => projector.prisma.paymentStatusHistory.findUnique({ where: { eventId: before.id } }));
    await sleep(50);
    const since = new Date().toISOString();
    const after = withdrawalEvent({ paymentId: randomUUID(), status: 'NEW' });
    await projector.deliver(batchOf(after));
    await eventually(async () => projector.prisma.paymentStatusHistory.findUnique({ where: { eventId: after.id } }));

    const ids = (await get(reader, `/v1/changes?from=${since}`)).body.changes.map((change: { event_id: string }) => change.event_id);

    expect(ids).toContain(after.id);
    expect(ids).not.toContain(before.id);
  });

  it.each([
    ['an altered cursor', (cursor: string) => `after=${cursor.replace(/^(\d)/, (digit) => String((Number(digit) + 1) % 10))}`],
    ['a made-up cursor', () => 'after=123.456.AAAAAAAAAAAAAAAAAAAAAA'],
    ['a cursor whose MAC differs only in bits it does not use', (cursor: string) => `after=${withUnusedBitFlipped(cursor)}`],
    ['garbage', () => 'after=%E2%9C%93'],
    ['both a cursor and a start', (cursor: string) => `after=${cursor}&from=now`],
    ['a wait over the limit', () => 'wait=31'],
    ['an unknown parameter', () => 'since=now'],
  ])('answers 400 problem+json for %s', async (_name, query) => {
    const cursor = (await get(reader, '/v1/changes?from=now')).body.next as string;

    const response = await get(reader, `/v1/changes?${query(cursor)}`);

    expect(response.status).toBe(400);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
  });
});
