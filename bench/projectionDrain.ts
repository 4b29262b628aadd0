import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { Queue } from 'bullmq';
import { Pool } from 'pg';
import { ProjectionJobData } from '../src/queue/jobs';
import { BenchInfrastructure } from './benchInfrastructure';
import { ProjectionWorkload } from './paymentEvents';
import { LoadOptions, runLoadGenerator } from './runLoad';

const POLL_INTERVAL_MS = 25;
const DRAIN_TIMEOUT_MS = 120_000;
const QUEUEING_TIMEOUT_MS = 30_000;

export interface DrainResult {
  events: number;
  deliveries: number;
  /** From resuming the filled queue until no event in webhook_events waited for its projection. */
  elapsedMs: number;
  /** Delivering the workload through the API, while the queue was paused. */
  fillMs: number;
}

/**
 * Delivers the workload through the running API, the way the provider would (each delivery's
 * events committed to the inbox, one job queued for them), into the paused queue; then resumes
 * the queue and times until the waiting worker process has projected every event. Filling is
 * timed apart, so that the API's work does not take CPU from the drain on this 2-core machine.
 * `fill`: the load generator's options, with the signed deliveries of the workload.
 */
export async function drainProjection(bench: BenchInfrastructure, fill: LoadOptions, events: number, signal: AbortSignal): Promise<DrainResult> {
  const { pool: database, eventsQueue: queue } = bench;
  await queue.waitUntilReady();
  const before = await countEvents(database);
  if (before !== 0) throw new Error(`webhook_events already holds ${before} rows before the drain`);
  await queue.pause();
  const fillStarted = performance.now();
  const load = await runLoadGenerator(fill, signal);
  const fillMs = performance.now() - fillStarted;
  if (load.failures > 0 || load.accepted !== events) {
    throw new Error(`filling the queue: ${load.failures} answers were not 200 and ${load.accepted} of ${events} events accepted (${load.failureSamples.join('; ')})`);
  }
  // The API queues the job of each statement it committed (one or several deliveries) just after answering.
  await waitFor(async () => (await queuedEvents(queue)) >= events, QUEUEING_TIMEOUT_MS, signal);

  const started = performance.now();
  await queue.resume();
  await waitFor(async () => (await unprojected(database)) === 0, DRAIN_TIMEOUT_MS, signal);
  const elapsedMs = performance.now() - started;
  if ((await countEvents(database)) !== events) throw new Error(`webhook_events holds ${await countEvents(database)} events, expected ${events}`);
  return { events, deliveries: load.answered, elapsedMs, fillMs };
}

/**
 * Checks the end state: one row per payment, one history row per event, and every payment
 * CONFIRMED (the late CANCELLED of direct debits must not win). Returns the problems found.
 */
export async function checkProjection(pool: Pool, workload: ProjectionWorkload): Promise<string[]> {
  const { rows } = await pool.query<{ payments: string; history: string; not_confirmed: string }>(`
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
}

/** Empties the status tables and the inbox between phases; the queue's keys go with deleteRedisKeys. */
export async function emptyTables(pool: Pool): Promise<void> {
  await pool.query('TRUNCATE webhook_events, payment_status_history, withdrawals, direct_debits, quarantined_payloads');
}

async function waitFor(condition: () => Promise<boolean>, timeoutMs: number, signal: AbortSignal): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await condition())) {
    signal.throwIfAborted();
    if (performance.now() > deadline) throw new Error(`condition not reached within ${timeoutMs} ms`);
    await sleep(POLL_INTERVAL_MS);
  }
}

async function queuedEvents(queue: Queue): Promise<number> {
  const jobs = await queue.getWaiting(0, -1);
  return jobs.reduce((sum, job) => sum + (job.data as ProjectionJobData).events.length, 0);
}

async function countEvents(database: Pool): Promise<number> {
  const { rows } = await database.query<{ count: string }>('SELECT count(*) AS count FROM webhook_events');
  return Number(rows[0].count);
}

/** Through the index of unprojected events, so that polling costs next to nothing while the worker runs. */
async function unprojected(database: Pool): Promise<number> {
  const { rows } = await database.query<{ count: string }>('SELECT count(*) AS count FROM webhook_events WHERE processed_at IS NULL');
  return Number(rows[0].count);
}
