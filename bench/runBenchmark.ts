import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Config, loadConfig } from '../src/config/config';
import { createLogger } from '../src/logging/logger';
import { inBatches } from '../src/shared/inBatches';
import { generateKeyPair, SigningKey } from '../src/signature';
import { ServiceProcess, STOP_TIMEOUT_MS, stopAllServiceProcesses } from '../testkit/ServiceProcess';
import { BenchInfrastructure, openBenchInfrastructure } from './benchInfrastructure';
import { benchResources, deleteRedisKeys, dropDatabase } from './benchResources';
import { brokenItemsScenario } from './brokenItems';
import { changeFeedLatency } from './changeFeedLatency';
import { createDurableFloorTable, durableFloorRowCount, emptyDurableFloorTable } from './durableFloorTable';
import { ingestEvents, projectionWorkload } from './paymentEvents';
import { checkProjection, drainProjection, emptyTables } from './projectionDrain';
import { pushScenarios } from './pushDelivery';
import { formatMemoryTable, formatNumber, formatTable, formatTargets, MemoryRow, ResultRow, TargetCheck } from './report';
import { LoadResult, runLoadGenerator } from './runLoad';
import { signRequests, writeRequestsFile } from './signedRequests';

/**
 * `npm run bench`: the service built by `npm run build` (the prebench script), measured against the local Postgres and Redis
 *   1. ingest: one ROLE=api process, next to two floors on the same requests: a bare node:http
 *      server that only verifies the same signatures and parses the JSON, and a durable one that
 *      also commits the events to Postgres, deduplicated by id, before it answers: at 1 and 50
 *      events per request with 32 in flight, and ~0.9 MiB deliveries of 1,700 events one at a time
 *      (the provider's model), and 5 MiB bodies of tiny broken items to an api process of their own;
 *   2. the change feed: from a status change's commit to the answer of a consumer waiting for it;
 *   3. projection: events/s of one ROLE=worker process draining 20,000 events delivered through the API;
 *   4. push: from a status change's commit to its arrival at a subscriber, and deliveries per second
 *      to 10 subscribers (processes of their own), with a ROLE=worker process of its own;
 *   5. the idle RSS of the api and the worker process once ready, and their peak RSS over the whole run.
 * Prints one table on stdout (progress goes to stderr). Exits 0 even when a target is missed;
 * non-zero when a server does not start, an answer is not 200 or the projected state is wrong.
 */

const SERVICE_MAIN = path.resolve(__dirname, '../dist/main.js');

/** A server the service is compared against, started fresh for each scenario (see floorServer.ts). */
interface Floor {
  name: string;
  script: string;
}

const BARE_FLOOR: Floor = { name: 'bare verifier', script: path.join(__dirname, 'bareVerifierServer.ts') };
const DURABLE_FLOOR: Floor = { name: 'durable floor', script: path.join(__dirname, 'durableFloorServer.ts') };

interface IngestScenario {
  label: string;
  eventsPerRequest: number;
  /** Requests in flight at once, each on its own keep-alive connection. */
  concurrency: number;
  warmupRequests: number;
  timedRequests: number;
  maxSeconds: number;
  /** The service's throughput at least this share of the durable floor's, or its p99 at most this multiple of the floor's. */
  target: { minVsDurable: number } | { maxP99VsDurable: number };
}

const INGEST_SCENARIOS: IngestScenario[] = [
  { label: '1 event/request', eventsPerRequest: 1, concurrency: 32, warmupRequests: 200, timedRequests: 3000, maxSeconds: 15, target: { minVsDurable: 0.9 } },
  { label: '50 events/request', eventsPerRequest: 50, concurrency: 32, warmupRequests: 200, timedRequests: 3000, maxSeconds: 15, target: { minVsDurable: 0.9 } },
  // About 0.9 MiB: the provider's largest package (1 MiB) holds about 1,700 such events.
  { label: '1,700 events/request, 1 in flight', eventsPerRequest: 1700, concurrency: 1, warmupRequests: 10, timedRequests: 100, maxSeconds: 30, target: { maxP99VsDurable: 1.3 } },
];
// 4,000 withdrawals x 3 events + 2,000 direct debits x 4 events = 20,000 events, delivered 50 at a time.
const PROJECTION_WITHDRAWALS = 4000;
const PROJECTION_DIRECT_DEBITS = 2000;
const PROJECTION_EVENTS_PER_DELIVERY = 50;
const PROJECTION_TARGET = 10_000;
const PEAK_RSS_TARGET_MB = 200;
/** The read API is on in the api process, as for the change feed's consumers. */
const READ_API_TOKEN = 'read-api-token-of-the-bench';

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
  const keyPair = generateKeyPair('p521');
  const signingKey: SigningKey = { kid: keyPair.kid, privateKey: crypto.createPrivateKey(keyPair.privateKeyPem) };
  const environment = (role: 'api' | 'worker') => serviceEnvironment(role, JSON.stringify(keyPair.jwks));
  // The configuration the service derives from the same variables: webhook path, prefix, database.
  const config = loadConfig(environment('api'));
  // The bench's own view of the run's database and queue; the service creates the database.
  const bench = openBenchInfrastructure(config, createLogger('warn', false, process.stderr));

  const rows: ResultRow[] = [];
  const targets: TargetCheck[] = [];
  // One api process for the whole run, as in production: its peak RSS covers every scenario.
  const api = await ServiceProcess.start({ name: 'service (api)', args: [SERVICE_MAIN], env: environment('api'), until: '/readyz' });
  const memory: MemoryRow[] = [];
  try {
    const apiIdleRssMb = api.rssMb();
    // The api has created the run's database by now; the table goes with it at the end.
    await createDurableFloorTable(bench.pool);
    for (const scenario of INGEST_SCENARIOS) {
      const measured = await ingestScenario(scenario, api, signingKey, bench, config, environment('api'));
      rows.push(...measured.rows);
      targets.push(measured.target);
    }
    progress('change feed, a consumer long-polling the api while status changes commit one at a time');
    const feed = await changeFeedLatency(api, bench.pool, READ_API_TOKEN);
    rows.push(feed.row);
    targets.push(feed.target);
    progress('ingest, service (ROLE=api, a process of its own), 5 MiB bodies of tiny broken items');
    const broken = await brokenItemsScenario(SERVICE_MAIN, environment('api'), signingKey, config.webhook.path);
    rows.push(broken.row);
    targets.push(...broken.targets);
    // The ingest phase left its events in the inbox and its jobs in Redis; the worker must see only the projection workload.
    progress('emptying the inbox and the queue');
    await emptyTables(bench.pool);
    await deleteRedisKeys(resources.redisUrl, resources.redisPrefix);
    const projection = await projectionPhase(api, signingKey, bench, config, environment('worker'));
    rows.push(projection.row);
    memory.push(
      { role: 'api', idleRssMb: apiIdleRssMb, peakRssMb: api.peakRssMb() },
      { role: 'worker', idleRssMb: projection.workerIdleRssMb, peakRssMb: projection.workerPeakRssMb },
    );
    const push = await pushScenarios(
      () => ServiceProcess.start({ name: 'service (worker, push)', args: [SERVICE_MAIN], env: { ...environment('worker'), PUSH_ALLOWED_TARGETS: '127.0.0.1' }, until: '/readyz' }),
      bench.pool,
      progress,
    );
    rows.push(...push.rows);
    memory.push({ role: 'worker (push)', idleRssMb: push.workerIdleRssMb, peakRssMb: push.workerPeakRssMb });
    targets.push(projection.target, ...push.targets, ...memory.map(peakRssTarget));
  } finally {
    await api.stop('SIGTERM', STOP_TIMEOUT_MS);
    await bench.close();
  }

  process.stdout.write(`${reportLines(rows, memory, targets).join('\n')}\n`);
  if (problems.length > 0) process.exitCode = 1;
}

/**
 * The service's api process, then a fresh bare verifier and a fresh durable floor, replaying the
 * same pre-signed requests; every event id in them is new to each of the three.
 */
async function ingestScenario(
  scenario: IngestScenario,
  api: ServiceProcess,
  signingKey: SigningKey,
  bench: BenchInfrastructure,
  config: Config,
  environment: NodeJS.ProcessEnv,
): Promise<{ rows: ResultRow[]; target: TargetCheck }> {
  const { label, eventsPerRequest } = scenario;
  const webhookPath = config.webhook.path;
  const requestsFile = path.join(temporaryDirectory, `requests-${eventsPerRequest}.ndjson`);
  const requestCount = scenario.warmupRequests + scenario.timedRequests;
  progress(`signing ${requestCount} requests with ${label} (not timed)`);
  writeRequestsFile(requestsFile, signRequests(inBatches(ingestEvents(requestCount * eventsPerRequest), eventsPerRequest), signingKey, webhookPath));

  // The service deduplicates by event id, the bare server does not: each request reaches the service once.
  progress(`ingest, service (ROLE=api), ${label}`);
  const service = await measureIngest(api, webhookPath, requestsFile, scenario);
  checkAnswers(`service, ${label}`, service.load);
  const expectedAccepted = service.load.answered * eventsPerRequest;
  if (service.load.accepted !== expectedAccepted) {
    problems.push(`service, ${label}: accepted ${service.load.accepted} events, expected ${expectedAccepted} (all are new)`);
  }
  const bare = await measureFloor(BARE_FLOOR, webhookPath, requestsFile, scenario, environment);
  // The service's inbox keeps the earlier scenarios' events, whose ids never come again; the floor starts empty, so both see only new ids.
  await emptyDurableFloorTable(bench.pool);
  const durable = await measureFloor(DURABLE_FLOOR, webhookPath, requestsFile, scenario, environment);
  const stored = await durableFloorRowCount(bench.pool);
  const expectedStored = durable.load.answered * eventsPerRequest;
  if (stored !== expectedStored) problems.push(`durable floor, ${label}: holds ${stored} events, expected ${expectedStored} (all are new)`);
  fs.rmSync(requestsFile);

  const vsBare = requestsPerSecond(service.load) / requestsPerSecond(bare.load);
  const vsDurable = requestsPerSecond(service.load) / requestsPerSecond(durable.load);
  const rows = [
    ingestRow(`ingest ${label}`, service, eventsPerRequest, { vsBare, vsDurable }),
    ingestRow(`${BARE_FLOOR.name} ${label}`, bare, eventsPerRequest),
    ingestRow(`${DURABLE_FLOOR.name} ${label}`, durable, eventsPerRequest),
  ];
  if ('minVsDurable' in scenario.target) {
    const { minVsDurable } = scenario.target;
    return { rows, target: { name: `ingest ${label} vs durable floor >= ${minVsDurable.toFixed(2)}`, value: formatNumber(vsDurable, 2), met: vsDurable >= minVsDurable } };
  }
  const { maxP99VsDurable } = scenario.target;
  const p99VsDurable = service.load.p99Ms / durable.load.p99Ms;
  return {
    rows,
    target: {
      name: `ingest ${label}: ack p99 <= ${maxP99VsDurable.toFixed(1)} x the durable floor's p99`,
      value: `${formatNumber(p99VsDurable, 2)} (${formatNumber(service.load.p99Ms, 1)} ms / ${formatNumber(durable.load.p99Ms, 1)} ms)`,
      met: p99VsDurable <= maxP99VsDurable,
    },
  };
}

/** A fresh process of the floor replays the scenario's requests; it is stopped whatever happens. */
async function measureFloor(floor: Floor, webhookPath: string, requestsFile: string, scenario: IngestScenario, environment: NodeJS.ProcessEnv): Promise<IngestMeasurement> {
  progress(`ingest, ${floor.name}, ${scenario.label}`);
  const server = await ServiceProcess.start({ name: floor.name, args: [...process.execArgv, floor.script], env: environment, until: '/readyz' });
  let measurement: IngestMeasurement;
  try {
    measurement = await measureIngest(server, webhookPath, requestsFile, scenario);
  } finally {
    await server.stop('SIGTERM', STOP_TIMEOUT_MS);
  }
  checkAnswers(`${floor.name}, ${scenario.label}`, measurement.load);
  return measurement;
}

/** A ROLE=worker process drains the projection workload, delivered through the api; then the end state is checked. */
async function projectionPhase(
  api: ServiceProcess,
  signingKey: SigningKey,
  bench: BenchInfrastructure,
  config: Config,
  environment: NodeJS.ProcessEnv,
): Promise<{ row: ResultRow; target: TargetCheck; workerIdleRssMb: number; workerPeakRssMb: number }> {
  const workload = projectionWorkload(PROJECTION_WITHDRAWALS, PROJECTION_DIRECT_DEBITS);
  const total = workload.events.length;
  const requestsFile = path.join(temporaryDirectory, 'projection.ndjson');
  progress(`signing the ${total} events of the projection workload, ${PROJECTION_EVENTS_PER_DELIVERY} per delivery (not timed)`);
  const deliveries = inBatches(workload.events, PROJECTION_EVENTS_PER_DELIVERY);
  writeRequestsFile(requestsFile, signRequests(deliveries, signingKey, config.webhook.path));
  progress(`projection, service (ROLE=worker), delivering ${total} events through the api into the paused queue, then draining them`);
  const worker = await ServiceProcess.start({ name: 'service (worker)', args: [SERVICE_MAIN], env: environment, until: '/readyz' });
  let idleRssMb;
  let drained;
  let peakRssMb;
  let cpuSeconds;
  try {
    idleRssMb = worker.rssMb();
    const fill = { url: `http://127.0.0.1:${api.port}${config.webhook.path}`, requestsFile, warmupRequests: 0, concurrency: 32, maxRequests: deliveries.length, maxSeconds: 120 };
    const cpuBefore = worker.cpuSeconds();
    drained = await drainProjection(bench, fill, total, interruption.signal);
    worker.assertRunning();
    peakRssMb = worker.peakRssMb();
    cpuSeconds = worker.cpuSeconds() - cpuBefore;
  } finally {
    await worker.stop('SIGTERM', STOP_TIMEOUT_MS);
    fs.rmSync(requestsFile);
  }
  problems.push(...(await checkProjection(bench.pool, workload)).map((problem) => `projection: ${problem}`));

  const rate = drained.events / (drained.elapsedMs / 1000);
  return {
    row: {
      scenario: `projection drain ${formatNumber(total, 0)} events`,
      eventsPerSecond: rate,
      peakRssMb,
      sample:
        `${total} events in ${drained.deliveries} deliveries drained in ${seconds(drained.elapsedMs)} s (delivered before, in ${seconds(drained.fillMs)} s); ` +
        `worker CPU ${cpuSeconds.toFixed(1)} s, ${((cpuSeconds * 1e6) / total).toFixed(0)} µs/event`,
    },
    target: { name: `projection >= ${formatNumber(PROJECTION_TARGET, 0)} events/s`, value: formatNumber(rate, 0), met: rate >= PROJECTION_TARGET },
    workerIdleRssMb: idleRssMb,
    workerPeakRssMb: peakRssMb,
  };
}

function peakRssTarget({ role, peakRssMb }: MemoryRow): TargetCheck {
  return { name: `peak RSS of the ${role} process <= ${PEAK_RSS_TARGET_MB} MB`, value: formatNumber(peakRssMb, 0), met: peakRssMb <= PEAK_RSS_TARGET_MB };
}

function reportLines(rows: ResultRow[], memory: MemoryRow[], targets: TargetCheck[]): string[] {
  return [
    '',
    formatTable(rows),
    '',
    formatMemoryTable(memory),
    '',
    formatTargets(targets),
    '',
    `setup: ${os.cpus().length} cores (load average ${loadAverageAtStart} at start); one api process for every ingest row, a fresh bare verifier and a fresh durable floor per scenario; ` +
      'keep-alive connections, warm-up requests first; P-521 signatures',
    'peak RSS: VmHWM of the process so far (the api row values grow over the run); idle RSS: VmRSS once ready (the api before the first scenario, the worker before the drain); ' +
      'CPU ms/req: user+system CPU of the server process (all threads) per answered request; Postgres and Redis not included',
    ...(problems.length > 0 ? ['', 'problems:', ...problems.map((problem) => `  - ${problem}`)] : []),
  ];
}

interface IngestMeasurement {
  load: LoadResult;
  peakRssMb: number;
  cpuSeconds: number;
}

async function measureIngest(server: ServiceProcess, webhookPath: string, requestsFile: string, scenario: IngestScenario): Promise<IngestMeasurement> {
  const cpuBefore = server.cpuSeconds();
  const load = await runLoadGenerator(
    {
      url: `http://127.0.0.1:${server.port}${webhookPath}`,
      requestsFile,
      warmupRequests: scenario.warmupRequests,
      concurrency: scenario.concurrency,
      maxRequests: scenario.timedRequests,
      maxSeconds: scenario.maxSeconds,
    },
    interruption.signal,
  );
  server.assertRunning();
  return { load, peakRssMb: server.peakRssMb(), cpuSeconds: server.cpuSeconds() - cpuBefore };
}

function checkAnswers(what: string, load: LoadResult): void {
  if (load.failures === 0) return;
  problems.push(`${what}: ${load.failures} answers were not 200, e.g.\n${load.failureSamples.map((sample) => `      ${sample}`).join('\n')}`);
}

function ingestRow(scenario: string, measurement: IngestMeasurement, eventsPerRequest: number, vsFloors?: { vsBare: number; vsDurable: number }): ResultRow {
  const { load } = measurement;
  return {
    scenario,
    requestsPerSecond: requestsPerSecond(load),
    eventsPerSecond: requestsPerSecond(load) * eventsPerRequest,
    p50Ms: load.p50Ms,
    p99Ms: load.p99Ms,
    peakRssMb: measurement.peakRssMb,
    ...vsFloors,
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
    READ_API_TOKEN,
    // Tracing is measured by running the bench with OTEL_EXPORTER_OTLP_ENDPOINT (and the other OTEL_*) set.
    ...Object.fromEntries(Object.entries(process.env).filter(([name]) => name.startsWith('OTEL_'))),
    // On the main port, so that a run never depends on 9464 being free.
    METRICS_PORT: '0',
    // As the image runs the service (Dockerfile): fewer malloc arenas, less resident memory.
    MALLOC_ARENA_MAX: '2',
  };
}

let cleanupDone: Promise<void> | undefined;

/** Stops the servers, then removes the run's Redis keys, database and temporary files. Safe to call twice. */
function cleanup(): Promise<void> {
  cleanupDone ??= (async () => {
    progress('cleaning up');
    const steps: Array<[string, () => Promise<unknown>]> = [
      ['stop server processes', () => stopAllServiceProcesses()],
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
