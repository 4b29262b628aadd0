import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Config, loadConfig } from '../src/config/config';
import { generateKeyPair, SigningKey } from '../src/signature';
import { benchResources, deleteRedisKeys, dropDatabase } from './benchResources';
import { buildService } from './buildService';
import { inBatches } from '../src/shared/inBatches';
import { ingestEvents, projectionWorkload } from './paymentEvents';
import { checkProjection, drainProjection } from './projectionDrain';
import { formatNumber, formatTable, formatTargets, ResultRow, TargetCheck } from './report';
import { LoadResult, runLoadGenerator } from './runLoad';
import { ServerProcess, stopAllServerProcesses } from './serviceProcess';
import { signRequests, writeRequestsFile } from './signedRequests';

/**
 * `npm run bench`: builds the service, then measures against the local Postgres and Redis
 *   1. ingest: requests/s and events/s of one ROLE=api process at 1 and 50 events per request,
 *      next to a bare node:http server that only verifies the same signatures;
 *   2. projection: events/s of one ROLE=worker process draining 20,000 queued events;
 *   3. the peak RSS of each server process.
 * Prints one table on stdout (progress goes to stderr). Exits 0 even when a target is missed;
 * non-zero when a server does not start, an answer is not 200 or the projected state is wrong.
 */

const REPOSITORY_ROOT = path.resolve(__dirname, '..');
const SERVICE_MAIN = path.join(REPOSITORY_ROOT, 'dist', 'main.js');
const BARE_SERVER = path.join(__dirname, 'bareVerifierServer.ts');

const EVENTS_PER_REQUEST = [1, 50];
const CONCURRENCY = 32;
const WARMUP_REQUESTS = 200;
const TIMED_REQUESTS = 3000;
const MAX_SECONDS = 15;
// 4,000 withdrawals x 3 events + 2,000 direct debits x 4 events = 20,000 events.
const PROJECTION_WITHDRAWALS = 4000;
const PROJECTION_DIRECT_DEBITS = 2000;
const RATIO_TARGET = 0.8;
const PROJECTION_TARGET = 5000;

const benchStarted = performance.now();
// Other work on the machine shares the same cores and skews every figure; the report shows how busy it was.
const loadAverageAtStart = os.loadavg()[0].toFixed(2);
const resources = benchResources();
const temporaryDirectory = fs.mkdtempSync(path.join(os.tmpdir(), 'upvest-bench-'));
/** Aborted on SIGINT/SIGTERM, so that work still running stops writing while the cleanup runs. */
const interruption = new AbortController();
/** Wrong answers and wrong end states: reported, and they make the exit code non-zero. */
const problems: string[] = [];

async function main(): Promise<void> {
  progress(`building the service (npm run build)`);
  await buildService(REPOSITORY_ROOT);

  const keyPair = generateKeyPair('p521');
  const signingKey: SigningKey = { kid: keyPair.kid, privateKey: crypto.createPrivateKey(keyPair.privateKeyPem) };
  const environment = (role: 'api' | 'worker') => serviceEnvironment(role, JSON.stringify(keyPair.jwks));
  // The configuration the service derives from the same variables: webhook path, prefix, job options.
  const config = loadConfig(environment('api'));

  const rows: ResultRow[] = [];
  const targets: TargetCheck[] = [];
  for (const eventsPerRequest of EVENTS_PER_REQUEST) {
    const scenario = await ingestScenario(eventsPerRequest, signingKey, config, environment('api'));
    rows.push(...scenario.rows);
    targets.push(scenario.target);
  }

  // The ingest phase left its jobs queued; the worker must see only the projection workload.
  progress('removing the ingest jobs from Redis');
  await deleteRedisKeys(resources.redisUrl, resources.redisPrefix);
  const projection = await projectionPhase(config, environment('worker'));
  rows.push(projection.row);
  targets.push(projection.target);

  process.stdout.write(`${reportLines(rows, targets).join('\n')}\n`);
  if (problems.length > 0) process.exitCode = 1;
}

/** Service and bare verifier at `eventsPerRequest`, replaying the same pre-signed requests. */
async function ingestScenario(
  eventsPerRequest: number,
  signingKey: SigningKey,
  config: Config,
  environment: NodeJS.ProcessEnv,
): Promise<{ rows: ResultRow[]; target: TargetCheck }> {
  const label = eventsPerRequest === 1 ? '1 event/request' : `${eventsPerRequest} events/request`;
  const requestsFile = path.join(temporaryDirectory, `requests-${eventsPerRequest}.ndjson`);
  const requestCount = WARMUP_REQUESTS + TIMED_REQUESTS;
  progress(`signing ${requestCount} requests with ${label} (not timed)`);
  const events = ingestEvents(requestCount * eventsPerRequest);
  writeRequestsFile(requestsFile, signRequests(inBatches(events, eventsPerRequest), signingKey, config.webhook.path));

  // The service deduplicates by event id, the bare server does not: each request reaches the service once.
  progress(`ingest, service (ROLE=api), ${label}`);
  const service = await measureIngest('service', [SERVICE_MAIN], environment, config.webhook.path, requestsFile);
  checkAnswers(`service, ${label}`, service.load);
  const expectedAccepted = service.load.answered * eventsPerRequest;
  if (service.load.accepted !== expectedAccepted) {
    problems.push(`service, ${label}: accepted ${service.load.accepted} events, expected ${expectedAccepted} (all are new)`);
  }
  progress(`ingest, bare verifier, ${label}`);
  const bare = await measureIngest('bare verifier', [...process.execArgv, BARE_SERVER], environment, config.webhook.path, requestsFile);
  checkAnswers(`bare verifier, ${label}`, bare.load);
  fs.rmSync(requestsFile);

  const ratio = requestsPerSecond(service.load) / requestsPerSecond(bare.load);
  return {
    rows: [ingestRow(`ingest ${label}`, service, eventsPerRequest, ratio), ingestRow(`bare verifier ${label}`, bare, eventsPerRequest)],
    target: { name: `ingest ${label} vs bare >= ${RATIO_TARGET.toFixed(2)}`, value: formatNumber(ratio, 2), met: ratio >= RATIO_TARGET },
  };
}

/** A ROLE=worker process drains the projection workload; then the end state is checked. */
async function projectionPhase(config: Config, environment: NodeJS.ProcessEnv): Promise<{ row: ResultRow; target: TargetCheck }> {
  const workload = projectionWorkload(PROJECTION_WITHDRAWALS, PROJECTION_DIRECT_DEBITS);
  const total = workload.events.length;
  progress(`projection, service (ROLE=worker), draining ${total} events`);
  const worker = await ServerProcess.start('service (worker)', [SERVICE_MAIN], environment);
  let drained;
  let peakRssMb;
  let cpuSeconds;
  try {
    const cpuBefore = worker.cpuSeconds();
    drained = await drainProjection(config, workload, interruption.signal);
    worker.assertRunning();
    peakRssMb = worker.peakRssMb();
    cpuSeconds = worker.cpuSeconds() - cpuBefore;
  } finally {
    await worker.stop();
  }
  problems.push(...(await checkProjection(config, workload)).map((problem) => `projection: ${problem}`));

  const rate = drained.events / (drained.elapsedMs / 1000);
  return {
    row: {
      scenario: `projection drain ${formatNumber(total, 0)} events`,
      eventsPerSecond: rate,
      peakRssMb,
      sample:
        `${total} queued events drained in ${seconds(drained.elapsedMs)} s (enqueued before, in ${seconds(drained.enqueueMs)} s), worker CPU ${cpuSeconds.toFixed(1)} s; ` +
        `adding one job cost ${drained.jobAddCost.nodeCpuMicros.toFixed(0)} µs Node CPU + ${drained.jobAddCost.redisMicros.toFixed(1)} µs Redis`,
    },
    target: { name: `projection >= ${formatNumber(PROJECTION_TARGET, 0)} events/s`, value: formatNumber(rate, 0), met: rate >= PROJECTION_TARGET },
  };
}

function reportLines(rows: ResultRow[], targets: TargetCheck[]): string[] {
  return [
    '',
    formatTable(rows),
    '',
    formatTargets(targets),
    '',
    `setup: ${os.cpus().length} cores (load average ${loadAverageAtStart} at start), ${CONCURRENCY} keep-alive connections, ` +
      `${WARMUP_REQUESTS} warm-up requests, then up to ${TIMED_REQUESTS} requests or ${MAX_SECONDS} s; P-521 signatures; one server process per row`,
    'CPU ms/req: user+system CPU of the server process (all threads) per answered request; Redis and Postgres not included',
    ...(problems.length > 0 ? ['', 'problems:', ...problems.map((problem) => `  - ${problem}`)] : []),
  ];
}

interface IngestMeasurement {
  load: LoadResult;
  peakRssMb: number;
  cpuSeconds: number;
}

/** One fresh server process per measurement, so that its peak RSS belongs to that scenario alone. */
async function measureIngest(
  name: string,
  args: string[],
  environment: NodeJS.ProcessEnv,
  webhookPath: string,
  requestsFile: string,
): Promise<IngestMeasurement> {
  const server = await ServerProcess.start(name, args, environment);
  try {
    const cpuBefore = server.cpuSeconds();
    const load = await runLoadGenerator(
      {
        url: `http://127.0.0.1:${server.port}${webhookPath}`,
        requestsFile,
        warmupRequests: WARMUP_REQUESTS,
        concurrency: CONCURRENCY,
        maxRequests: TIMED_REQUESTS,
        maxSeconds: MAX_SECONDS,
      },
      interruption.signal,
    );
    server.assertRunning();
    return { load, peakRssMb: server.peakRssMb(), cpuSeconds: server.cpuSeconds() - cpuBefore };
  } finally {
    await server.stop();
  }
}

function checkAnswers(what: string, load: LoadResult): void {
  if (load.failures === 0) return;
  problems.push(`${what}: ${load.failures} answers were not 200, e.g.\n${load.failureSamples.map((sample) => `      ${sample}`).join('\n')}`);
}

function ingestRow(scenario: string, measurement: IngestMeasurement, eventsPerRequest: number, vsBare?: number): ResultRow {
  const { load } = measurement;
  return {
    scenario,
    requestsPerSecond: requestsPerSecond(load),
    eventsPerSecond: requestsPerSecond(load) * eventsPerRequest,
    p50Ms: load.p50Ms,
    p99Ms: load.p99Ms,
    peakRssMb: measurement.peakRssMb,
    vsBare,
    cpuMsPerRequest: (measurement.cpuSeconds * 1000) / load.answered,
    sample: `${load.requests} req in ${seconds(load.elapsedMs)} s`,
  };
}

function seconds(milliseconds: number): string {
  return (milliseconds / 1000).toFixed(1);
}

function requestsPerSecond(load: LoadResult): number {
  return load.requests / (load.elapsedMs / 1000);
}

/**
 * Only what the service needs, not the caller's whole environment: a ROLE, WORKER_CONCURRENCY or
 * DATABASE_URL exported in the shell must not change what is measured (the defaults).
 */
function serviceEnvironment(role: 'api' | 'worker', jwks: string): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    ROLE: role,
    LOG_LEVEL: 'warn',
    DATABASE_URL: resources.databaseUrl,
    REDIS_URL: resources.redisUrl,
    REDIS_PREFIX: resources.redisPrefix,
    UPVEST_WEBHOOK_JWKS: jwks,
    // On the main port, so that a run never depends on 9464 being free.
    METRICS_PORT: '0',
  };
}

let cleanupDone: Promise<void> | undefined;

/** Stops the servers, then removes the run's Redis keys, database and temporary files. Safe to call twice. */
function cleanup(): Promise<void> {
  cleanupDone ??= (async () => {
    progress('cleaning up');
    const steps: Array<[string, () => Promise<unknown>]> = [
      ['stop server processes', () => stopAllServerProcesses()],
      ['remove temporary files', async () => fs.rmSync(temporaryDirectory, { recursive: true, force: true })],
      [`delete Redis keys ${resources.redisPrefix}:*`, () => deleteRedisKeys(resources.redisUrl, resources.redisPrefix)],
      [`drop database ${new URL(resources.databaseUrl).pathname.slice(1)}`, () => dropDatabase(resources.databaseUrl)],
    ];
    // Each step on its own: a Redis that is down must not leave the database behind.
    for (const [name, step] of steps) {
      try {
        await step();
      } catch (error) {
        process.stderr.write(`[bench] cleanup: ${name} failed: ${(error as Error).message}\n`);
        process.exitCode = 1;
      }
    }
    progress(`done in ${((performance.now() - benchStarted) / 1000).toFixed(0)} s`);
  })();
  return cleanupDone;
}

function progress(message: string): void {
  process.stderr.write(`[bench ${((performance.now() - benchStarted) / 1000).toFixed(1).padStart(5)} s] ${message}\n`);
}

for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
  process.on(signal, () => {
    if (interruption.signal.aborted) return;
    interruption.abort();
    progress(`${signal}: stopping`);
    void cleanup().finally(() => process.exit(code));
  });
}

main()
  .catch((error: Error) => {
    // After an interrupt, failures of the phase that was cut short are expected, not news.
    if (interruption.signal.aborted) return;
    process.stderr.write(`[bench] failed: ${error.stack ?? error.message}\n`);
    process.exitCode = 1;
  })
  .finally(() => cleanup());
