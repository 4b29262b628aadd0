import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { startServiceFromSources } from '../../testkit/ServiceProcess';
import { createTestDatabase, TestDatabase } from '../support/testDatabase';
import { deleteRedisKeys, providerKeys, signedHeaders } from '../support/testService';
import { batchOf, withdrawalEvent } from '../../testkit/paymentEvents';

const REPORTER = path.resolve(__dirname, '../support/reportLoadedModules.ts');

/**
 * What a role must not load unless its configuration asks for it: each costs a process megabytes.
 * (BullMQ's entry module loads all of its classes, the Worker too; only a path into its dist would
 * avoid that, 4 MB, at the price of depending on the package's file layout.)
 */
const ADMIN_UI = /node_modules\/@bull-board\//;
const TRACING_SDK = /node_modules\/@opentelemetry\/sdk-trace-(base|node)\//;
const PRISMA = /src\/generated\/prisma\/|node_modules\/@prisma\/client\//;
// Both roles declare every instrument (serviceMetrics), so the *Metrics modules are not among these.
const WORKER_ROLE = /src\/(wiring\/workerRole|projection\/(ProjectionWorker|ProjectionStore)|reconciliation\/(Reconciler|ReconciliationScheduler|Backfill))/;
const API_ROLE = /src\/(wiring\/(apiRole|deliveryReceiver|adminRouter|readApiRouter)|admin\/|readApi\/)/;

let database: TestDatabase;
let redisPrefix: string;
let directory: string;

beforeAll(async () => {
  database = await createTestDatabase();
  redisPrefix = `test-modules-${process.pid}`;
  directory = fs.mkdtempSync(path.join(os.tmpdir(), 'role-modules-'));
});

afterAll(async () => {
  await deleteRedisKeys(redisPrefix);
  await database.drop();
  fs.rmSync(directory, { recursive: true, force: true });
});

/** Runs the service from its sources in `role`, lets `use` exercise it, stops it and answers the modules it loaded. */
async function modulesLoadedBy(role: 'api' | 'worker', use: (baseUrl: string) => Promise<void>): Promise<string[]> {
  const file = path.join(directory, `${role}.txt`);
  const service = await startServiceFromSources(
    {
      ROLE: role,
      DATABASE_URL: database.url,
      REDIS_PREFIX: redisPrefix,
      MIGRATE_ON_START: 'false',
      UPVEST_WEBHOOK_JWKS: JSON.stringify(providerKeys.jwks),
      LOG_LEVEL: 'warn',
      LOADED_MODULES_FILE: file,
      ADMIN_TOKEN: '',
      READ_API_TOKEN: '',
      OTEL_EXPORTER_OTLP_ENDPOINT: '',
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: '',
    },
    [REPORTER],
  );
  try {
    await use(service.baseUrl);
  } finally {
    expect(await service.stop('SIGTERM')).toBe(0);
  }
  return fs.readFileSync(file, 'utf8').split('\n');
}

function matching(modules: string[], pattern: RegExp): string[] {
  return modules.filter((module) => pattern.test(module));
}

describe('each role loads only the modules it uses', () => {
  it('the api, without admin or read-API tokens and with tracing off, receives a delivery without the admin UI, the tracing SDK, Prisma or the worker role', async () => {
    const modules = await modulesLoadedBy('api', async (baseUrl) => {
      const body = batchOf(withdrawalEvent());
      const answer = await request(baseUrl).post('/webhooks/upvest').set(signedHeaders(body)).send(body);
      expect(answer.status).toBe(200);
    });

    expect(matching(modules, /src\/http\/webhookRoute/)).toHaveLength(1);
    expect(matching(modules, ADMIN_UI)).toEqual([]);
    expect(matching(modules, TRACING_SDK)).toEqual([]);
    expect(matching(modules, PRISMA)).toEqual([]);
    expect(matching(modules, WORKER_ROLE)).toEqual([]);
  });

  it('the worker loads neither the api role (the receiver, the admin and read API) nor the admin UI or the tracing SDK', async () => {
    const modules = await modulesLoadedBy('worker', async (baseUrl) => {
      expect((await request(baseUrl).get('/readyz')).status).toBe(200);
    });

    expect(matching(modules, /src\/projection\/ProjectionWorker/)).toHaveLength(1);
    expect(matching(modules, API_ROLE)).toEqual([]);
    expect(matching(modules, ADMIN_UI)).toEqual([]);
    expect(matching(modules, TRACING_SDK)).toEqual([]);
  });
});
