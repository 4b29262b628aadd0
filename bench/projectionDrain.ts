import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { Client } from 'pg';
import { Config } from '../src/config/config';
import { defaultJobOptions, EVENTS_QUEUE_NAME, EventJobData } from '../src/queue/jobs';
import { createRedisConnection } from '../src/queue/redisConnection';
import { inBatches } from '../src/shared/inBatches';
import { ProjectionWorkload } from './paymentEvents';

const ENQUEUE_CHUNK = 1000;
const POLL_INTERVAL_MS = 25;
const DRAIN_TIMEOUT_MS = 90_000;

export interface DrainResult {
  events: number;
  /** From releasing the filled queue to the worker until webhook_events held every event. */
  elapsedMs: number;
  /** From the first addBulk until the last one returned, while the queue was paused. */
  enqueueMs: number;
  /**
   * What one BullMQ job costs to add, the way the API adds them: CPU of this (the adding) process,
   * and Redis's own time in the job-adding scripts (INFO commandstats, evalsha), per job.
   */
  jobAddCost: { nodeCpuMicros: number; redisMicros: number };
}

/**
 * Queues the workload exactly as the API does (BatchIngestor: one job per event, named after its
 * type, jobId = event id, the service's queue, prefix and default job options) into the paused
 * queue, then lets the waiting worker process drain the 20,000 queued events and times until the
 * last event's row is committed. Enqueueing is timed apart, so that the bench's own addBulk calls
 * do not take CPU from the drain on this 2-core machine. Each batch of the worker
 * writes webhook_events, the payment rows and the history in one transaction, so counting
 * webhook_events counts committed events.
 */
export async function drainProjection(config: Config, workload: ProjectionWorkload, signal: AbortSignal): Promise<DrainResult> {
  const database = await connect(config.database.url);
  const connection = createRedisConnection(config.redis.url, 'producer');
  const queue = new Queue(EVENTS_QUEUE_NAME, {
    connection,
    prefix: config.redis.prefix,
    defaultJobOptions: defaultJobOptions(config.worker.attempts),
  });
  // As in the service: without listeners a Redis hiccup would be an uncaught 'error' event.
  // A failed addBulk still rejects, and a stalled drain ends in the timeout below.
  connection.on('error', () => undefined);
  queue.on('error', () => undefined);
  // On an interrupt the cleanup deletes the run's keys; closing the connection at once makes sure
  // no addBulk of this loop lands after that and leaves jobs behind.
  const stopEnqueueing = () => connection.disconnect();
  signal.addEventListener('abort', stopEnqueueing);
  try {
    const before = await countEvents(database);
    if (before !== 0) throw new Error(`webhook_events already holds ${before} rows before the drain`);
    await queue.waitUntilReady();

    // Built before the clock starts: only enqueueing and projecting are timed.
    const receivedAt = new Date().toISOString();
    const chunks = inBatches(workload.events, ENQUEUE_CHUNK).map((events, index) =>
      events.map((event) => ({
        name: event.type,
        data: { event, receivedAt, requestId: `bench-projection-${index}` } satisfies EventJobData,
        opts: { jobId: event.id },
      })),
    );

    await queue.pause();
    const redisBefore = await evalshaStats(connection);
    const cpuBefore = process.cpuUsage();
    const enqueueStarted = performance.now();
    for (const chunk of chunks) {
      signal.throwIfAborted();
      await queue.addBulk(chunk);
    }
    const enqueueMs = performance.now() - enqueueStarted;
    const cpu = process.cpuUsage(cpuBefore);
    const redisAfter = await evalshaStats(connection);
    const jobAddCost = {
      nodeCpuMicros: (cpu.user + cpu.system) / workload.events.length,
      redisMicros: (redisAfter.usec - redisBefore.usec) / Math.max(1, redisAfter.calls - redisBefore.calls),
    };
    const started = performance.now();
    await queue.resume();
    const total = workload.events.length;
    const deadline = started + DRAIN_TIMEOUT_MS;
    let committed = 0;
    while (committed < total) {
      signal.throwIfAborted();
      if (performance.now() > deadline) {
        const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'failed');
        throw new Error(`only ${committed} of ${total} events projected after ${DRAIN_TIMEOUT_MS} ms; jobs: ${JSON.stringify(counts)}`);
      }
      await sleep(POLL_INTERVAL_MS);
      committed = await countEvents(database);
    }
    return { events: total, elapsedMs: performance.now() - started, enqueueMs, jobAddCost };
  } finally {
    signal.removeEventListener('abort', stopEnqueueing);
    await queue.close();
    connection.disconnect();
    await database.end();
  }
}

/**
 * Checks the end state: one row per payment, one history row per event, and every payment
 * CONFIRMED (the late CANCELLED of direct debits must not win). Returns the problems found.
 */
export async function checkProjection(config: Config, workload: ProjectionWorkload): Promise<string[]> {
  const database = await connect(config.database.url);
  try {
    const { rows } = await database.query<{ payments: string; history: string; not_confirmed: string }>(`
      SELECT (SELECT count(*) FROM withdrawals) + (SELECT count(*) FROM direct_debits) AS payments,
             (SELECT count(*) FROM payment_status_history) AS history,
             (SELECT count(*) FROM withdrawals WHERE status <> 'CONFIRMED')
               + (SELECT count(*) FROM direct_debits WHERE status <> 'CONFIRMED') AS not_confirmed`);
    const payments = Number(rows[0].payments);
    const history = Number(rows[0].history);
    const notConfirmed = Number(rows[0].not_confirmed);
    const expectedPayments = workload.withdrawals + workload.directDebits;
    const problems: string[] = [];
    if (payments !== expectedPayments) problems.push(`withdrawals + direct_debits hold ${payments} rows, expected ${expectedPayments}`);
    if (history !== workload.events.length) problems.push(`payment_status_history holds ${history} rows, expected ${workload.events.length}`);
    if (notConfirmed !== 0) problems.push(`${notConfirmed} payments are not CONFIRMED`);
    return problems;
  } finally {
    await database.end();
  }
}

/**
 * A pg Client without an 'error' listener takes the process down when its connection is ended
 * from the server side, as the DROP DATABASE ... WITH (FORCE) of an interrupted run does. The
 * query in flight, if any, still rejects, so nothing is lost by listening.
 */
async function connect(databaseUrl: string): Promise<Client> {
  const database = new Client({ connectionString: databaseUrl });
  database.on('error', () => undefined);
  await database.connect();
  return database;
}

async function countEvents(database: Client): Promise<number> {
  const { rows } = await database.query<{ count: string }>('SELECT count(*) AS count FROM webhook_events');
  return Number(rows[0].count);
}

/** Redis's totals for evalsha, the command BullMQ adds jobs with (the paused worker runs next to none meanwhile). */
async function evalshaStats(redis: Redis): Promise<{ calls: number; usec: number }> {
  const match = /^cmdstat_evalsha:calls=(\d+),usec=(\d+)/m.exec(await redis.info('commandstats'));
  return { calls: Number(match?.[1] ?? 0), usec: Number(match?.[2] ?? 0) };
}
