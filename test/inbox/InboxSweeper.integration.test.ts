import { randomBytes } from 'node:crypto';
import { Queue } from 'bullmq';
import { Database, openDatabase } from '../../src/database/Database';
import { InboxSweeper } from '../../src/inbox/InboxSweeper';
import { InboxWriter } from '../../src/inbox/InboxWriter';
import { SweeperInbox } from '../../src/inbox/SweeperInbox';
import { classifyBatch } from '../../src/ingest/classifyBatch';
import { createLogger } from '../../src/logging/logger';
import { eventJobId, ProjectionJobData } from '../../src/queue/jobs';
import { EVENTS_QUEUE_NAME } from '../../src/queue/redisKeys';
import { projectionJobOptions } from '../../src/queue/retryPolicy';
import { ProjectionJobs } from '../../src/queue/ProjectionJobs';
import { createRedisConnection } from '../../src/queue/redisConnection';
import { batchOf, withdrawalEvent } from '../../testkit/paymentEvents';
import { createTestDatabase, TestDatabase } from '../support/testDatabase';
import { deleteRedisKeys, eventually } from '../support/testService';

let testDatabase: TestDatabase;
let database: Database;
let inbox: SweeperInbox;
const connection = createRedisConnection('redis://127.0.0.1:6379', 'producer');
const redisPrefix = `test-sweeper-${process.pid}-${randomBytes(4).toString('hex')}`;
let queue: Queue;
let requeued = 0;
let sweeper: InboxSweeper;

beforeAll(async () => {
  testDatabase = await createTestDatabase();
  database = openDatabase(testDatabase.url, 4);
  inbox = new SweeperInbox(database.pool);
  queue = new Queue(EVENTS_QUEUE_NAME, { connection, prefix: redisPrefix, defaultJobOptions: projectionJobOptions({ attempts: 5, backoffMs: 200, backoffMaxMs: 1000 }) });
  await queue.waitUntilReady();
  sweeper = new InboxSweeper(inbox, new ProjectionJobs(queue, connection), createLogger('error', true), {
    intervalMs: 60_000,
    minAgeSeconds: 0,
    batchSize: 500,
    metrics: { eventsRequeued: (count) => (requeued += count) },
  });
});

afterAll(async () => {
  await queue.close();
  connection.disconnect();
  await database.close();
  await deleteRedisKeys(redisPrefix);
  await testDatabase.drop();
});

/** The ids of the events each waiting job names. */
async function waitingJobs(): Promise<string[][]> {
  return (await queue.getWaiting()).map((job) => (job.data as ProjectionJobData).events.map(({ id }) => id));
}

describe('the inbox sweeper', () => {
  it('queues again the committed events that no live job holds, once, and leaves those a job of their own holds', async () => {
    const [orphan, heldAlone] = [withdrawalEvent(), withdrawalEvent()];
    // Committed under a job Redis never got (a crash before queueing it, or a flush).
    await new InboxWriter(database.pool).receive([{ batch: classifyBatch(Buffer.from(batchOf(orphan, heldAlone))), requestId: 'request-1', receivedAt: new Date() }], 'batch-lost');
    // One of them was split off into a job of its own, which waits (here: delayed) for another attempt.
    await queue.add(heldAlone.type, { events: [{ id: heldAlone.id, type: heldAlone.type }] }, { jobId: eventJobId(heldAlone.id), delay: 3_600_000 });

    expect(await sweeper.sweep()).toBe(1);
    expect(await waitingJobs()).toEqual([[orphan.id.toLowerCase()]]);
    const [row] = await database.prisma.webhookEvent.findMany({ where: { id: orphan.id } });
    expect(row.jobId).toBe((await queue.getWaiting())[0].id);
    expect(requeued).toBe(1);

    // The new job now holds the event: a second sweep finds nothing to do.
    expect(await sweeper.sweep()).toBe(0);
  });

  it('skips a sweep while another process holds the sweeper lock', async () => {
    let release: (() => void) | undefined;
    const other = new SweeperInbox(database.pool).whileSweeping(() => new Promise<void>((resolve) => (release = resolve)));
    await eventually(async () => release !== undefined, 5000, 'the other sweep to hold the lock');

    expect(await sweeper.sweep()).toBeUndefined();

    release?.();
    await other;
    expect(await sweeper.sweep()).toBe(0);
  });
});
