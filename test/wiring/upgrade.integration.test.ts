import { Queue } from 'bullmq';
import IORedis from 'ioredis';
import { Client } from 'pg';
import { applyMigrations, readMigrations } from '../../src/database/migrations';
import { eventJobId, LEGACY_QUARANTINE_JOB_NAME } from '../../src/queue/jobs';
import { EVENTS_QUEUE_NAME } from '../../src/queue/redisKeys';
import { batchOf, withdrawalEvent } from '../../testkit/paymentEvents';
import { createTestDatabase, TestDatabase } from '../support/testDatabase';
import { deleteRedisKeys, eventually, startTestService, TestService } from '../support/testService';

const INBOX_MIGRATION = '20261127000000_durable_inbox';

describe('upgrading to the durable inbox', () => {
  let database: TestDatabase;
  const redisPrefix = `test-upgrade-${process.pid}`;

  beforeAll(async () => {
    database = await createTestDatabase(readMigrations().filter((migration) => migration.name < INBOX_MIGRATION));
  });

  afterAll(async () => {
    await database.drop();
    await deleteRedisKeys(redisPrefix);
  });

  it('keeps the rows of webhook_events, as projected events that still deduplicate', async () => {
    const event = withdrawalEvent({ paymentId: 'a2f0c2d4-1111-4b2a-9c3d-000000000001' });
    const client = new Client({ connectionString: database.url });
    await client.connect();
    try {
      // A row as the version before wrote it: jsonb, outcome and processed_at always set.
      await client.query(
        `INSERT INTO webhook_events (id, type, webhook_id, created_at, received_at, event, outcome, source)
         VALUES ($1, $2, $3, $4, now(), $5::jsonb, 'applied', 'webhook')`,
        [event.id, event.type, event.webhook_id, event.created_at, JSON.stringify(event)],
      );
    } finally {
      await client.end();
    }

    // The inbox's migration first, then any that came after it.
    expect(await applyMigrations(database.url)).toEqual(readMigrations().map(({ name }) => name).filter((name) => name >= INBOX_MIGRATION));

    const harness = await startTestService({}, { database, redisPrefix });
    try {
      const [row] = await harness.prisma.$queryRawUnsafe<Array<{ state: string; attempts: number; outcome: string }>>(
        'SELECT state, attempts, outcome FROM webhook_inbox WHERE id = $1::uuid',
        event.id,
      );
      expect(row).toEqual({ state: 'projected', attempts: 1, outcome: 'applied' });
      expect((await harness.prisma.webhookEvent.findUniqueOrThrow({ where: { id: event.id } })).event).toEqual(event);
      expect((await harness.deliver(batchOf(event))).body).toEqual({ accepted: 0, duplicate: 1, ignored: 0, quarantined: 0 });
    } finally {
      await harness.stop();
    }
  });
});

describe('jobs queued by the version before the inbox', () => {
  let harness: TestService;
  let redis: IORedis;
  let queue: Queue;

  beforeAll(async () => {
    harness = await startTestService();
    redis = new IORedis();
    queue = new Queue(EVENTS_QUEUE_NAME, { connection: redis, prefix: harness.redisPrefix });
  });

  afterAll(async () => {
    await queue.close();
    await redis.quit();
    await harness.stop();
  });

  it('receives their events into the inbox and projects them, quarantines their quarantined items and invalid events', async () => {
    const event = withdrawalEvent({ paymentId: 'a2f0c2d4-1111-4b2a-9c3d-000000000002' });
    const broken = { ...withdrawalEvent(), object: { amount: 'twelve' } };
    const content = Buffer.from('not json at all');
    const legacy = { receivedAt: '2026-11-26T10:00:00.000Z', requestId: 'request-before-upgrade' };

    // As the version before the inbox queued them: the whole event in the job, the job id its id.
    await queue.addBulk([
      { name: event.type, data: { event, ...legacy }, opts: { jobId: eventJobId(event.id) } },
      { name: broken.type, data: { event: broken, ...legacy }, opts: { jobId: eventJobId(broken.id) } },
      {
        name: LEGACY_QUARANTINE_JOB_NAME,
        data: { reason: 'body is not JSON: syntax error', contentBase64: content.toString('base64'), contentSha256: 'a'.repeat(64), ...legacy },
        opts: { jobId: `quarantine-${'a'.repeat(64)}` },
      },
    ]);

    const row = await eventually(async () => harness.prisma.withdrawal.findUnique({ where: { id: event.object.id as string } }));
    expect(row.status).toBe('NEW');
    const stored = await harness.prisma.webhookEvent.findUniqueOrThrow({ where: { id: event.id } });
    expect(stored).toMatchObject({ requestId: 'request-before-upgrade', outcome: 'applied', event });
    expect(stored.receivedAt.toISOString()).toBe(legacy.receivedAt);
    const quarantined = await eventually(async () => {
      const rows = await harness.prisma.quarantinedPayload.findMany({ where: { requestId: 'request-before-upgrade' }, orderBy: { id: 'asc' } });
      return rows.length === 2 ? rows : undefined;
    });
    expect(quarantined.map((item) => item.reason)).toEqual(expect.arrayContaining(['body is not JSON: syntax error', expect.stringMatching(/^invalid WITHDRAWAL.NEW event/)]));
    await eventually(async () => (await queue.getJobCounts('completed')).completed === 3);
    expect(await queue.getJobCounts('failed')).toEqual({ failed: 0 });
  });
});
