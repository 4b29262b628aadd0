import { batchOf, directDebitEvent, withdrawalEvent } from '../../testkit/paymentEvents';
import request from 'supertest';
import { eventually, signedHeaders, startTestService, TestService } from '../support/testService';
import { Queue } from 'bullmq';
import { MAX_EVENT_DEPTH } from '../../src/ingest/unstorableContent';
import { EVENTS_QUEUE_NAME } from '../../src/queue/redisKeys';
import { generateKeyPair } from '../../src/signature';
import { refuseAmount666 } from '../support/refusedAmount';

let harness: TestService;

beforeAll(async () => {
  harness = await startTestService({ WEBHOOK_BODY_LIMIT_BYTES: String(64 * 1024) });
});

afterAll(async () => {
  await harness.stop();
});

async function eventCount(): Promise<number> {
  return harness.projectedEvents();
}

describe('POST /webhooks/upvest', () => {
  it('projects a signed batch into withdrawals, direct_debits, history and webhook_events', async () => {
    const paymentId = 'a1f0c2d4-1111-4b2a-9c3d-000000000001';
    const mandatePaymentId = 'b2f0c2d4-2222-4b2a-9c3d-000000000002';
    const events = [
      withdrawalEvent({ paymentId, status: 'NEW', createdAt: '2021-07-21T14:10:00.00Z' }),
      withdrawalEvent({ paymentId, status: 'PROCESSING', createdAt: '2021-07-21T14:11:00.00Z', object: { amount: '150.00' } }),
      directDebitEvent({ paymentId: mandatePaymentId, status: 'NEW', object: { currency: 'GBP', purpose_code: 'CASH', taxes: [] } }),
    ];

    const response = await harness.deliver(batchOf(...events));

    expect(response.status).toBe(200);
    expect(response.body).toEqual({ accepted: 3, duplicate: 0, ignored: 0, quarantined: 0 });
    await eventually(async () => (await eventCount()) >= 3, 15000, 'three projected events');
    const withdrawal = await harness.prisma.withdrawal.findUniqueOrThrow({ where: { id: paymentId } });
    expect(withdrawal).toMatchObject({ status: 'PROCESSING', currency: 'EUR', lastEventId: events[1].id, statusEventId: events[1].id });
    expect(withdrawal.amount.toFixed(2)).toBe('150.00');
    const directDebit = await harness.prisma.directDebit.findUniqueOrThrow({ where: { id: mandatePaymentId } });
    expect(directDebit).toMatchObject({ status: 'NEW', currency: 'GBP', purposeCode: 'CASH', updatedAt: null });
    expect(directDebit.cashAmount.toFixed(2)).toBe('200.00');
    const stored = await harness.prisma.webhookEvent.findUniqueOrThrow({ where: { id: events[2].id } });
    expect(stored.event).toEqual(events[2]);
    expect(stored.outcome).toBe('applied');
    const history = await harness.prisma.paymentStatusHistory.findMany({ where: { paymentId }, orderBy: { eventCreatedAt: 'asc' } });
    expect(history.map((row) => [row.previousStatus, row.status])).toEqual([
      [null, 'NEW'],
      ['NEW', 'PROCESSING'],
    ]);
  });

  it('acknowledges a repeated delivery as duplicates and changes nothing', async () => {
    const body = batchOf(withdrawalEvent({ paymentId: 'a1f0c2d4-1111-4b2a-9c3d-000000000003' }));
    expect((await harness.deliver(body)).body).toMatchObject({ accepted: 1, duplicate: 0 });
    await eventually(async () => harness.prisma.withdrawal.findUnique({ where: { id: 'a1f0c2d4-1111-4b2a-9c3d-000000000003' } }));
    const before = await eventCount();

    const again = await harness.deliver(body);

    expect(again.status).toBe(200);
    expect(again.body).toEqual({ accepted: 0, duplicate: 1, ignored: 0, quarantined: 0 });
    expect(await eventCount()).toBe(before);
  });

  it('creates one job and one row per event when the same batch arrives concurrently', async () => {
    const paymentId = 'a1f0c2d4-1111-4b2a-9c3d-000000000004';
    const events = (['NEW', 'PROCESSING', 'CONFIRMED'] as const).map((status, index) =>
      withdrawalEvent({ paymentId, status, createdAt: `2021-07-21T14:1${index}:00Z` }),
    );
    const body = batchOf(...events);

    const responses = await Promise.all(Array.from({ length: 8 }, () => harness.deliver(body)));

    expect(responses.map((response) => response.status)).toEqual(Array(8).fill(200));
    const accepted = responses.reduce((sum, response) => sum + response.body.accepted, 0);
    const duplicate = responses.reduce((sum, response) => sum + response.body.duplicate, 0);
    expect(accepted).toBe(3);
    expect(duplicate).toBe(8 * 3 - 3);
    expect(await harness.prisma.webhookEvent.count({ where: { id: { in: events.map((event) => event.id) } } })).toBe(3);
    await eventually(async () => (await harness.prisma.paymentStatusHistory.count({ where: { paymentId } })) === 3);
    const row = await harness.prisma.withdrawal.findUniqueOrThrow({ where: { id: paymentId } });
    expect(row.status).toBe('CONFIRMED');
  });

  it('ends in the same row whatever order the events arrive in', async () => {
    const paymentId = 'a1f0c2d4-1111-4b2a-9c3d-000000000005';
    const newEvent = withdrawalEvent({ paymentId, status: 'NEW', createdAt: '2021-07-21T14:10:00Z', object: { amount: '10.00' } });
    const processing = withdrawalEvent({ paymentId, status: 'PROCESSING', createdAt: '2021-07-21T14:11:00Z', object: { amount: '11.00' } });
    const confirmed = withdrawalEvent({ paymentId, status: 'CONFIRMED', createdAt: '2021-07-21T14:12:00Z', object: { amount: '12.00' } });

    for (const event of [confirmed, newEvent, processing]) {
      expect((await harness.deliver(batchOf(event))).status).toBe(200);
    }

    await eventually(async () => (await harness.prisma.paymentStatusHistory.count({ where: { paymentId } })) === 3);
    const row = await harness.prisma.withdrawal.findUniqueOrThrow({ where: { id: paymentId } });
    expect(row).toMatchObject({ status: 'CONFIRMED', statusEventId: confirmed.id, lastEventId: confirmed.id });
    expect(row.amount.toFixed(2)).toBe('12.00');
    const late = await harness.prisma.paymentStatusHistory.findUniqueOrThrow({ where: { eventId: processing.id } });
    expect(late).toMatchObject({ previousStatus: 'CONFIRMED', status: 'CONFIRMED', statusChanged: false });
    const outcome = await harness.prisma.webhookEvent.findUniqueOrThrow({ where: { id: processing.id } });
    expect(outcome.outcome).toBe('superseded');
  });

  it('acknowledges a mixed batch, ignores foreign events and quarantines malformed ones', async () => {
    const valid = withdrawalEvent({ paymentId: 'a1f0c2d4-1111-4b2a-9c3d-000000000006' });
    const foreign = { id: 'c0000000-0000-4000-8000-000000000001', created_at: '2021-07-21T14:10:00Z', type: 'USER.CREATED', object: {}, webhook_id: 'w' };
    const unknownType = { ...withdrawalEvent(), type: 'WITHDRAWAL.REFUNDED' };
    const badAmount = withdrawalEvent({ object: { amount: 12.5 } });

    const response = await harness.deliver(batchOf(valid, foreign, unknownType, badAmount));

    expect(response.status).toBe(200);
    expect(response.body).toEqual({ accepted: 1, duplicate: 0, ignored: 1, quarantined: 2 });
    const quarantined = await eventually(async () => {
      const rows = await harness.prisma.quarantinedPayload.findMany({ where: { eventId: { in: [unknownType.id, badAmount.id] } } });
      return rows.length === 2 ? rows : undefined;
    });
    const reasons = quarantined.map((row) => row.reason).sort();
    expect(reasons[0]).toMatch(/invalid WITHDRAWAL.NEW event: object.amount/);
    expect(reasons[1]).toMatch(/unknown event type WITHDRAWAL.REFUNDED/);
    await eventually(async () => harness.prisma.withdrawal.findUnique({ where: { id: 'a1f0c2d4-1111-4b2a-9c3d-000000000006' } }));
  });

  it('stores each event exactly as received: whitespace, key order, escapes and number forms kept', async () => {
    const event = withdrawalEvent({ paymentId: 'a1f0c2d4-1111-4b2a-9c3d-000000000007' });
    const { object, ...envelope } = event;
    const asSent = `{ "webhook_id":"${envelope.webhook_id}" ,"type" : "${envelope.type}", "id":"${envelope.id}",
      "created_at":"${envelope.created_at}", "score": 1.10, "big": 12345678901234567890, "note": "caf\u00e9 \ud83d\ude00",
      "object": ${JSON.stringify(object, null, 2)} }`;

    const response = await harness.deliver(`{"payload":[ ${asSent} ]}`);

    expect(response.body).toEqual({ accepted: 1, duplicate: 0, ignored: 0, quarantined: 0 });
    const [stored] = await harness.prisma.$queryRawUnsafe<Array<{ event: string }>>('SELECT event::text AS event FROM webhook_events WHERE id = $1::uuid', event.id);
    expect(stored.event).toBe(asSent);
    await eventually(async () => (await harness.prisma.withdrawal.findUnique({ where: { id: event.object.id as string } })) !== null);
  });

  it('quarantines a conflicting copy of an event inside one batch, and counts every element sent', async () => {
    const first = withdrawalEvent({ paymentId: 'a1f0c2d4-1111-4b2a-9c3d-000000000008', object: { amount: '10.00' } });
    const conflicting = { ...first, object: { ...first.object, amount: '99.00' } };

    const response = await harness.deliver(batchOf(first, { ...first }, conflicting));

    expect(response.body).toEqual({ accepted: 1, duplicate: 1, ignored: 0, quarantined: 1 });
    const row = await harness.prisma.quarantinedPayload.findFirstOrThrow({ where: { eventId: first.id } });
    expect(row.reason).toBe('conflicting_duplicate');
    expect(JSON.parse(Buffer.from(row.content).toString('utf8'))).toEqual(conflicting);
    const projected = await eventually(async () => harness.prisma.withdrawal.findUnique({ where: { id: first.object.id as string } }));
    expect(projected.amount.toFixed(2)).toBe('10.00');
  });

  it('quarantines a conflicting copy that arrives in a later delivery, once however often it comes; the first version stands', async () => {
    const first = withdrawalEvent({ paymentId: 'a1f0c2d4-1111-4b2a-9c3d-000000000009', object: { amount: '10.00' } });
    const conflicting = { ...first, object: { ...first.object, amount: '99.00' } };
    expect((await harness.deliver(batchOf(first))).body).toMatchObject({ accepted: 1 });
    const metricsBefore = (await request(harness.metricsUrl).get('')).text;

    const later = await harness.deliver(batchOf(conflicting, withdrawalEvent()));
    const again = await harness.deliver(batchOf(conflicting));
    const same = await harness.deliver(batchOf(first));

    expect(later.body).toEqual({ accepted: 1, duplicate: 0, ignored: 0, quarantined: 1 });
    expect(again.body).toEqual({ accepted: 0, duplicate: 0, ignored: 0, quarantined: 1 });
    expect(same.body).toEqual({ accepted: 0, duplicate: 1, ignored: 0, quarantined: 0 });
    const rows = await harness.prisma.quarantinedPayload.findMany({ where: { eventId: first.id } });
    expect(rows.map((row) => row.reason)).toEqual(['conflicting_duplicate']);
    const counted = (text: string) => Number(/^upvest_webhook_conflicting_duplicates_total\{type="WITHDRAWAL.NEW"\} (\d+)/m.exec(text)?.[1] ?? 0);
    expect(counted((await request(harness.metricsUrl).get('')).text) - counted(metricsBefore)).toBe(1);
    const stored = await harness.prisma.webhookEvent.findUniqueOrThrow({ where: { id: first.id } });
    expect(stored.event).toEqual(first);
  });

  it('projects the good sibling of an event that fails for good, which waits alone in the failed set with its reason', async () => {
    const allow = await refuseAmount666(harness, 'withdrawals');
    try {
      const good = withdrawalEvent({ paymentId: 'a1f0c2d4-1111-4b2a-9c3d-000000000010' });
      const bad = withdrawalEvent({ paymentId: 'a1f0c2d4-1111-4b2a-9c3d-000000000011', object: { amount: '666.00' } });

      expect((await harness.deliver(batchOf(bad, good))).body).toMatchObject({ accepted: 2 });

      await eventually(async () => harness.prisma.withdrawal.findUnique({ where: { id: good.object.id as string } }));
      const [state] = await eventually(async () => {
        const rows = await harness.prisma.$queryRawUnsafe<Array<{ state: string; attempts: number; last_error: string; job_id: string }>>(
          'SELECT state, attempts, last_error, job_id FROM webhook_inbox WHERE id = $1::uuid',
          bad.id,
        );
        return rows[0]?.state === 'failed' ? rows : undefined;
      });
      expect(state.attempts).toBeGreaterThanOrEqual(1);
      expect(state.last_error).toMatch(/refuse_666/);
      // Its row names the job of its own, so that the sweeper sees it held there.
      expect(state.job_id).toBe(bad.id.toLowerCase());
      const queue = new Queue(EVENTS_QUEUE_NAME, { connection: { host: '127.0.0.1', port: 6379 }, prefix: harness.redisPrefix });
      try {
        const failed = await queue.getFailed();
        expect(failed.map((job) => [job.id, job.name])).toEqual([[bad.id.toLowerCase(), 'WITHDRAWAL.NEW']]);
      } finally {
        await queue.close();
      }
      expect(await harness.prisma.withdrawal.findUnique({ where: { id: bad.object.id as string } })).toBeNull();
    } finally {
      await allow();
    }
  });

  it('quarantines an event nested a thousand levels deep on its own, and accepts its sibling, also when delivered again', async () => {
    const depth = 1000;
    const sibling = withdrawalEvent({ paymentId: 'a1f0c2d4-1111-4b2a-9c3d-000000000012' });
    const deep = withdrawalEvent({ paymentId: 'a1f0c2d4-1111-4b2a-9c3d-000000000014' });
    const body = batchOf(sibling, deep).replace(/"webhook_id"(?![\s\S]*"webhook_id")/, `"nested":${'['.repeat(depth)}${']'.repeat(depth)},"webhook_id"`);

    expect((await harness.deliver(body)).body).toEqual({ accepted: 1, duplicate: 0, ignored: 0, quarantined: 1 });
    expect((await harness.deliver(body)).body).toEqual({ accepted: 0, duplicate: 1, ignored: 0, quarantined: 1 });
    const row = await harness.prisma.quarantinedPayload.findFirstOrThrow({ where: { eventId: deep.id } });
    expect(row.reason).toBe(`WITHDRAWAL.NEW event is nested deeper than ${MAX_EVENT_DEPTH} levels`);
    expect(JSON.parse(Buffer.from(row.content).toString('utf8')).id).toBe(deep.id);
    await eventually(async () => harness.prisma.withdrawal.findUnique({ where: { id: sibling.object.id as string } }));
    expect(await harness.prisma.webhookEvent.findUnique({ where: { id: deep.id } })).toBeNull();
  });

  it('keeps the whole body of an event nested too deeply to encode on its own (4,500 and 30,000 levels), and accepts its sibling', async () => {
    const depth = 30_000;
    const sibling = withdrawalEvent({ paymentId: 'a1f0c2d4-1111-4b2a-9c3d-000000000013' });
    const deep = withdrawalEvent({ paymentId: 'a1f0c2d4-1111-4b2a-9c3d-000000000015' });
    const body = batchOf(sibling, deep).replace(/"webhook_id"(?![\s\S]*"webhook_id")/, `"nested":${'['.repeat(depth)}${']'.repeat(depth)},"webhook_id"`);

    const response = await harness.deliver(body);

    expect(response.status).toBe(200);
    expect(response.body).toEqual({ accepted: 1, duplicate: 0, ignored: 0, quarantined: 1 });
    const row = await harness.prisma.quarantinedPayload.findFirstOrThrow({ where: { reason: { startsWith: '1 of the 2 events cannot be used' } } });
    expect(row.reason).toContain(`payload[1]: WITHDRAWAL.NEW event is nested deeper than ${MAX_EVENT_DEPTH} levels`);
    expect(Buffer.from(row.content).toString('utf8')).toBe(body);
    expect(await harness.prisma.webhookEvent.findUnique({ where: { id: deep.id } })).toBeNull();
    // Projected before the next test counts projected events.
    await eventually(async () => harness.prisma.withdrawal.findUnique({ where: { id: sibling.object.id as string } }));
  });

  it('acknowledges an authentic body that is not JSON and quarantines it byte for byte', async () => {
    const body = 'this is { not json';

    const response = await harness.deliver(body);

    expect(response.status).toBe(200);
    expect(response.body).toEqual({ accepted: 0, duplicate: 0, ignored: 0, quarantined: 1 });
    const row = await eventually(async () => harness.prisma.quarantinedPayload.findFirst({ where: { reason: { startsWith: 'body is not JSON' } } }));
    expect(Buffer.from(row.content).toString('utf8')).toBe(body);
  });

  it('answers 401 problem+json and stores nothing when the signature does not verify', async () => {
    const before = await eventCount();
    const stranger = generateKeyPair('p521');

    const response = await harness.deliver(batchOf(withdrawalEvent()), { keyPair: stranger });

    expect(response.status).toBe(401);
    expect(response.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(JSON.parse(response.text)).toMatchObject({ status: 401, detail: expect.stringContaining(stranger.kid) });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await eventCount()).toBe(before);
  });

  it('answers 401 when the body was changed after signing', async () => {
    const body = batchOf(withdrawalEvent());
    const tampered = body.replace('200.00', '900.00');
    const response = await harness.deliver(tampered, { headers: signedHeaders(body) });

    expect(response.status).toBe(401);
    expect(JSON.parse(response.text).detail).toMatch(/digest/);
  });

  it('answers 413 problem+json for a body over the limit', async () => {
    const response = await harness.deliver(batchOf(withdrawalEvent({ object: { padding: 'x'.repeat(70 * 1024) } })));

    expect(response.status).toBe(413);
    expect(response.headers['content-type']).toMatch(/application\/problem\+json/);
  });

  it('reports readiness of Redis and Postgres', async () => {
    const response = await request(harness.baseUrl).get('/readyz');
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ status: 'ready', checks: { postgres: 'ok', redis: 'ok' } });
  });
});
