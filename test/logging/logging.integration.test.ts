import crypto from 'node:crypto';
import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { Queue } from 'bullmq';
import IORedis from 'ioredis';
import request from 'supertest';
import { createLogger, Logger } from '../../src/logging/logger';
import { eventJobId } from '../../src/queue/jobs';
import { EVENTS_QUEUE_NAME } from '../../src/queue/redisKeys';
import { projectionJobOptions } from '../../src/queue/retryPolicy';
import { directDebitResource } from '../support/fakeUpvest';
import { FakeUpvestTenant, startFakeUpvestTenant } from '../support/fakeUpvestTenant';
import { batchOf, directDebitEvent, withdrawalEvent } from '../../testkit/paymentEvents';
import { refuseAmount666 } from '../support/refusedAmount';
import { TcpProxy } from '../support/tcpProxy';
import { createTestDatabase, TestDatabase } from '../support/testDatabase';
import { deleteRedisKeys, eventually, signedHeaders, startTestService, TestService } from '../support/testService';

interface LogEntry {
  level: string;
  message: string;
  timestamp: string;
  service: string;
  requestId?: string;
  jobId?: string;
  eventId?: string;
  [key: string]: unknown;
}

/** The service's log output, written through the service's own logger and format to a stream the test reads. */
class LogCapture {
  readonly lines: string[] = [];
  readonly logger: Logger;

  constructor() {
    const stream = new Writable({
      write: (chunk: Buffer, _encoding, done) => {
        this.lines.push(...chunk.toString('utf8').split('\n').filter((line) => line !== ''));
        done();
      },
    });
    // The most verbose level: nothing below may leak at any level, and the http lines are requests' lines too.
    this.logger = createLogger('silly', false, stream);
  }

  entries(from = 0): LogEntry[] {
    return this.lines.slice(from).map((line) => JSON.parse(line) as LogEntry);
  }

  /** The lines written while `action` ran, and shortly after (the http line is written once the answer is sent). */
  async during<T>(action: () => Promise<T>): Promise<{ result: T; entries: LogEntry[] }> {
    const start = this.lines.length;
    const result = await action();
    await sleep(50);
    return { result, entries: this.entries(start) };
  }
}

/** Values that must never appear in a log line. */
const secrets = new Set<string>();

const ADMIN_TOKEN = 'admin-token-for-the-logging-test';
secrets.add(ADMIN_TOKEN);

/** Signed headers of a delivery; the signature's value is remembered as a secret. */
function signed(body: string): Record<string, string> {
  const headers = signedHeaders(body);
  secrets.add(headers.signature);
  // The bare base64 value inside sig1=:...:, which a careless log line might print on its own.
  secrets.add(/:([^:]+):/.exec(headers.signature)?.[1] ?? headers.signature);
  return headers;
}

function remittance(text: string): string {
  secrets.add(text);
  return text;
}

function expectNoSecrets(lines: string[]): void {
  expect(lines.length).toBeGreaterThan(0);
  for (const secret of secrets) {
    const leaking = lines.filter((line) => line.includes(secret));
    expect({ secret, leaking }).toEqual({ secret, leaking: [] });
  }
}

describe('log lines of a webhook request', () => {
  const capture = new LogCapture();
  let harness: TestService;

  beforeAll(async () => {
    // API only: no worker lines interleave with the requests' lines.
    harness = await startTestService({ ROLE: 'api', WEBHOOK_BODY_LIMIT_BYTES: String(16 * 1024), ADMIN_TOKEN: ADMIN_TOKEN }, undefined, { logger: capture.logger });
  });

  afterAll(async () => {
    await harness.stop();
  });

  function post(body: string, headers: Record<string, string>) {
    return request(harness.baseUrl).post('/webhooks/upvest').set(headers).send(body);
  }

  it('puts the ingress request id on every line of a delivery, and echoes it', async () => {
    const body = batchOf(
      withdrawalEvent({ paymentId: crypto.randomUUID(), object: { remittance_information: remittance('Rent flat 4B for Jane Roe') } }),
      directDebitEvent({ paymentId: crypto.randomUUID(), object: { remittance_information: remittance('Savings plan of John Q. Public') } }),
      // Quarantined: the reason is logged, the content is not.
      withdrawalEvent({ object: { amount: 12.5, remittance_information: remittance('Gift for Erika Mustermann') } }),
      withdrawalEvent({ object: { remittance_information: remittance(`Too long ${'Max Mustermann '.repeat(12)}`) } }),
      { id: crypto.randomUUID(), type: 'USER.CREATED', object: { name: 'Someone' } },
    );

    const { result: response, entries } = await capture.during(() => post(body, { ...signed(body), 'x-request-id': 'ingress-7f3a.1' }));

    expect(response.status).toBe(200);
    expect(response.headers['x-request-id']).toBe('ingress-7f3a.1');
    expect(entries.map((entry) => entry.message).sort()).toEqual(['request finished', 'webhook accepted', 'webhook content quarantined']);
    // One line per delivery, naming each record's reason.
    const quarantined = entries.find((entry) => entry.message === 'webhook content quarantined');
    expect(quarantined).toMatchObject({ level: 'warn', records: 2, events: 2 });
    expect(quarantined?.reasons).toHaveLength(2);
    for (const entry of entries) expect(entry).toMatchObject({ requestId: 'ingress-7f3a.1', service: 'upvest-webhook-receiver' });
    expect(entries.find((entry) => entry.message === 'webhook accepted')).toMatchObject({ level: 'info', accepted: 2, quarantined: 2, ignored: 1 });
    expect(entries.find((entry) => entry.message === 'request finished')).toMatchObject({ level: 'http', method: 'POST', route: '/webhooks/upvest', status: 200 });
  });

  it('makes a request id when the ingress sent none, or one that is not a plain token', async () => {
    for (const incoming of [undefined, 'has spaces and "quotes"']) {
      const body = batchOf(withdrawalEvent({ paymentId: crypto.randomUUID(), object: { remittance_information: remittance(`Invoice ${crypto.randomUUID()}`) } }));
      const headers = { ...signed(body), ...(incoming === undefined ? {} : { 'x-request-id': incoming }) };

      const { result: response, entries } = await capture.during(() => post(body, headers));

      const requestId = response.headers['x-request-id'];
      expect(requestId).toMatch(/^[0-9a-f-]{36}$/);
      expect(entries.length).toBeGreaterThanOrEqual(2);
      for (const entry of entries) expect(entry.requestId).toBe(requestId);
    }
  });

  it('puts the request id on the lines of refused deliveries, at warn', async () => {
    const body = batchOf(withdrawalEvent({ object: { remittance_information: remittance('Refund for Max Example') } }));
    const tooLarge = JSON.stringify({ payload: [{ remittance_information: remittance(`Large ${'y'.repeat(17 * 1024)}`) }] });

    const rejected = await capture.during(() => post(body.replace('200.00', '300.00'), { ...signed(body), 'x-request-id': 'refused-1' }));
    const large = await capture.during(() => post(tooLarge, { ...signed(tooLarge), 'x-request-id': 'refused-2' }));

    expect(rejected.result.status).toBe(401);
    expect(rejected.entries.map(({ message, level }) => [message, level])).toEqual([
      ['webhook signature rejected', 'warn'],
      ['request finished', 'http'],
    ]);
    expect(rejected.entries.every((entry) => entry.requestId === 'refused-1')).toBe(true);
    expect(rejected.entries[0]).toMatchObject({ reason: 'digest_mismatch' });
    expect(large.result.status).toBe(413);
    expect(large.entries.map(({ message, level }) => [message, level])).toEqual([
      ['webhook body too large', 'warn'],
      ['request finished', 'http'],
    ]);
    expect(large.entries.every((entry) => entry.requestId === 'refused-2')).toBe(true);
  });

  it('puts the request id on the lines of admin operations too', async () => {
    const { result: response, entries } = await capture.during(() =>
      request(harness.baseUrl)
        .post('/admin/jobs/failed/retry')
        .set({ Authorization: `Bearer ${ADMIN_TOKEN}`, 'x-request-id': 'admin-op-1' })
        .send({ type: 'WITHDRAWAL.NEW' }),
    );

    expect(response.status).toBe(200);
    expect(entries.map(({ message }) => message)).toEqual(['admin: failed jobs retried', 'request finished']);
    for (const entry of entries) expect(entry.requestId).toBe('admin-op-1');
  });

  it('keeps signatures and remittance texts out of every line', () => {
    expectNoSecrets(capture.lines);
  });

  it('writes only JSON lines with a level, a message and a timestamp', () => {
    for (const entry of capture.entries()) {
      expect(['error', 'warn', 'info', 'http', 'verbose', 'debug', 'silly']).toContain(entry.level);
      expect(typeof entry.message).toBe('string');
      expect(Number.isNaN(Date.parse(entry.timestamp))).toBe(false);
    }
  });
});

describe('log lines of a job', () => {
  const capture = new LogCapture();
  let tenant: FakeUpvestTenant;
  let database: TestDatabase;
  let proxy: TcpProxy;
  let harness: TestService;
  const redisPrefix = `test-logging-${process.pid}-${crypto.randomBytes(4).toString('hex')}`;

  beforeAll(async () => {
    tenant = await startFakeUpvestTenant();
    database = await createTestDatabase();
    proxy = await TcpProxy.start(5432);
    const viaProxy = new URL(database.url);
    viaProxy.port = String(proxy.port);
    secrets.add(tenant.environment.UPVEST_CLIENT_SECRET);
    // The first token request fails: the client logs its retry, and must not log the secret it sent.
    tenant.fake.failNext(1, 503, { pathPrefix: '/auth/token' });
    harness = await startTestService(
      { ...tenant.environment, DATABASE_URL: viaProxy.toString(), RECONCILIATION_INTERVAL_SECONDS: '1', RECONCILIATION_STALE_AFTER_SECONDS: '0' },
      { database, redisPrefix },
      { logger: capture.logger },
    );
  });

  afterAll(async () => {
    proxy.restore();
    await harness.stop();
    await proxy.close();
    await deleteRedisKeys(redisPrefix);
    await database.drop();
    await tenant.fake.close();
  });

  it('puts the event id and the job id on the lines of a failing job', async () => {
    // A payment that reconciliation corrects, through the provider's API (token, secret and all).
    const corrected = crypto.randomUUID();
    const first = batchOf(directDebitEvent({ paymentId: corrected, status: 'PROCESSING', object: { remittance_information: remittance('Pocket money Lena') } }));
    expect((await request(harness.baseUrl).post('/webhooks/upvest').set(signed(first)).send(first)).status).toBe(200);
    tenant.fake.directDebits.set(corrected, directDebitResource({ id: corrected, status: 'CONFIRMED', remittance_information: remittance('Pocket money Lena, confirmed') }));
    await eventually(async () => (await harness.prisma.directDebit.findUnique({ where: { id: corrected } }))?.status === 'CONFIRMED', 20000, 'the correction');
    expect(capture.entries().some((entry) => entry.message === 'upvest api call failed, retrying')).toBe(true);

    // Postgres away: the job of one event fails and is retried.
    const redis = new IORedis();
    const queue = new Queue(EVENTS_QUEUE_NAME, { connection: redis, prefix: redisPrefix });
    try {
      proxy.cut();
      const waiting = withdrawalEvent({ paymentId: crypto.randomUUID() });
      const job = await queue.add(waiting.type, { events: [{ id: waiting.id, type: waiting.type }] }, { ...projectionJobOptions({ attempts: 5, backoffMs: 200, backoffMaxMs: 1000 }), jobId: eventJobId(waiting.id) });
      const retried = await eventually(async () =>
        capture.entries().find((entry) => entry.message === 'job failed, will retry' && entry.eventId === waiting.id),
      );
      proxy.restore();
      await eventually(async () => (await queue.getJobState(job.id as string)) === 'completed', 20000, 'the retried job');
      expect(retried).toMatchObject({ level: 'warn', eventId: waiting.id, jobId: waiting.id.toLowerCase(), jobName: 'WITHDRAWAL.NEW' });
    } finally {
      proxy.restore();
      await queue.close();
      await redis.quit();
    }

    // An event the database refuses fails for good, at error, in a job of its own.
    const allow = await refuseAmount666(harness, 'withdrawals');
    try {
      const refused = withdrawalEvent({ paymentId: crypto.randomUUID(), object: { amount: '666.00', remittance_information: remittance('Refund for Otto Normal') } });
      const third = batchOf(refused);
      expect((await request(harness.baseUrl).post('/webhooks/upvest').set(signed(third)).send(third)).status).toBe(200);
      const failed = await eventually(async () => capture.entries().find((entry) => entry.message === 'job failed for good' && entry.eventId === refused.id));
      expect(failed).toMatchObject({ level: 'error', jobId: refused.id.toLowerCase() });
    } finally {
      await allow();
    }

    for (const entry of capture.entries().filter((line) => line.message.startsWith('job failed'))) {
      expect(typeof entry.eventId).toBe('string');
      expect(typeof entry.jobId).toBe('string');
    }
  });

  it('keeps the client secret, signatures and remittance texts out of every line', () => {
    expectNoSecrets(capture.lines);
  });
});
