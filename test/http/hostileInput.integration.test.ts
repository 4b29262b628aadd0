import { Writable } from 'node:stream';
import { Queue } from 'bullmq';
import request from 'supertest';
import { createLogger } from '../../src/logging/logger';
import { EVENTS_QUEUE_NAME } from '../../src/queue/redisKeys';
import { batchOf, withdrawalEvent } from '../../testkit/paymentEvents';
import { eventually, startTestService, TestService } from '../support/testService';

/** Authentic deliveries that a leaked key or a broken provider release could send: each is answered 200 and loses nothing. */
describe('hostile but authentic deliveries', () => {
  const logLines: Array<Record<string, unknown>> = [];
  let harness: TestService;
  let queue: Queue;

  beforeAll(async () => {
    const stream = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) logLines.push(JSON.parse(line));
        done();
      },
    });
    harness = await startTestService({}, undefined, { logger: createLogger('info', false, stream) });
    queue = new Queue(EVENTS_QUEUE_NAME, { connection: { host: '127.0.0.1', port: 6379 }, prefix: harness.redisPrefix });
  });

  afterAll(async () => {
    await queue.close();
    await harness.stop();
  });

  /** The body of a sibling and an event whose unknown member `extra` is `field` (raw JSON). */
  function withOddSibling(field: string) {
    const sibling = withdrawalEvent({ paymentId: crypto.randomUUID() });
    const odd = withdrawalEvent({ paymentId: crypto.randomUUID() });
    const body = batchOf(sibling, { ...odd, extra: 'PLACEHOLDER' }).replace('"PLACEHOLDER"', field);
    return { body, sibling, odd };
  }

  it.each([
    ['a NUL character', '"remit\\u0000tance"'],
    ['a lone surrogate', '"\\ud800"'],
    ['nesting 4,500 levels deep', `${'['.repeat(4500)}${']'.repeat(4500)}`],
  ])('quarantines an event holding %s at once, projects its sibling, and leaves no failed job', async (_name, field) => {
    const { body, sibling, odd } = withOddSibling(field);

    const response = await harness.deliver(body);

    expect(response.status).toBe(200);
    expect(response.body).toEqual({ accepted: 1, duplicate: 0, ignored: 0, quarantined: 1 });
    await eventually(async () => harness.prisma.withdrawal.findUnique({ where: { id: sibling.object.id as string } }));
    expect(await harness.prisma.webhookEvent.findUnique({ where: { id: odd.id } })).toBeNull();
    expect(await queue.getFailedCount()).toBe(0);
  });

  it('quarantines an event created in year 0, which Postgres cannot store, and projects its sibling', async () => {
    const sibling = withdrawalEvent({ paymentId: crypto.randomUUID() });
    const odd = withdrawalEvent({ paymentId: crypto.randomUUID(), createdAt: '0001-01-01T00:00:00+01:00' });

    const response = await harness.deliver(batchOf(sibling, odd));

    expect(response.body).toEqual({ accepted: 1, duplicate: 0, ignored: 0, quarantined: 1 });
    await eventually(async () => harness.prisma.withdrawal.findUnique({ where: { id: sibling.object.id as string } }));
    expect(await queue.getFailedCount()).toBe(0);
  });

  it('accepts a batch that starts with a byte order mark', async () => {
    const event = withdrawalEvent({ paymentId: crypto.randomUUID() });

    const response = await harness.deliver(`\ufeff${batchOf(event)}`);

    expect(response.body).toEqual({ accepted: 1, duplicate: 0, ignored: 0, quarantined: 0 });
    await eventually(async () => harness.prisma.withdrawal.findUnique({ where: { id: event.object.id as string } }));
  });

  it('quarantines, not ignores, a projected category written in other letter case', async () => {
    const response = await harness.deliver(batchOf(withdrawalEvent({ type: 'withdrawal.new' }), { id: crypto.randomUUID(), type: 'USER.CREATED' }));

    expect(response.body).toEqual({ accepted: 0, duplicate: 0, ignored: 1, quarantined: 1 });
  });

  it('answers a 5 MiB body of tiny broken items 200, with one quarantine record and one log line', async () => {
    const item = `{"type":"WITHDRAWAL.NEW","id":"${crypto.randomUUID()}"}`;
    const count = Math.floor((5 * 1024 * 1024 - 100) / (item.length + 1));
    const body = `{"payload":[${Array(count).fill(item).join(',')}]}`;
    const recordsBefore = await harness.prisma.quarantinedPayload.count();
    const linesBefore = logLines.length;
    const rssBefore = process.memoryUsage().rss;

    const started = performance.now();
    const response = await harness.deliver(body);
    const elapsedMs = performance.now() - started;

    expect(response.status).toBe(200);
    expect(response.body).toEqual({ accepted: 0, duplicate: 0, ignored: 0, quarantined: count });
    expect(await harness.prisma.quarantinedPayload.count()).toBe(recordsBefore + 1);
    const quarantineLines = logLines.slice(linesBefore).filter((line) => line.message === 'webhook content quarantined');
    expect(quarantineLines).toEqual([expect.objectContaining({ records: 1, events: count })]);
    // Wide margins for a busy machine; `npm run bench` measures it (about 0.5 s and 40 MB here).
    expect(elapsedMs).toBeLessThan(10_000);
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(300 * 1024 * 1024);
  });

  it.each(['GET', 'PUT', 'DELETE', 'OPTIONS'])('answers %s on the webhook path 405 problem+json, allowing POST', async (method) => {
    const response = await request(harness.baseUrl)[method.toLowerCase() as 'get'](`/webhooks/upvest`);

    expect(response.status).toBe(405);
    expect(response.headers.allow).toBe('POST');
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(response.body).toMatchObject({ status: 405 });
  });
});
