import { createPrivateKey, randomBytes } from 'node:crypto';
import IORedis from 'ioredis';
import request from 'supertest';
import { loadConfig } from '../../src/config/config';
import { createPrismaClient, PrismaClient } from '../../src/database/prismaClient';
import { createLogger, Logger } from '../../src/logging/logger';
import { redisKeyPattern } from '../../src/queue/redisKeys';
import { generateKeyPair, KeyPair, SigningKey, signWebhookRequest } from '../../src/signature';
import { RunningService, startService } from '../../src/wiring/startService';
import { createTestDatabase, TestDatabase } from './testDatabase';

export interface TestService {
  service: RunningService;
  baseUrl: string;
  /** GET here for the Prometheus metrics (the main port unless METRICS_PORT was given). */
  metricsUrl: string;
  prisma: PrismaClient;
  database: TestDatabase;
  redisPrefix: string;
  /** Events in webhook_events that the worker has projected (the inbox also holds those waiting). */
  projectedEvents(): Promise<number>;
  /** POSTs a body to the webhook endpoint, signed like the provider signs. */
  deliver(body: string, options?: { keyPair?: KeyPair; headers?: Record<string, string> }): Promise<request.Response>;
  stop(): Promise<void>;
}

/** The test's key pair: what the provider would sign with. */
export const providerKeys = generateKeyPair('p521');

/** A whole service (API and worker, or as told) on its own database and Redis prefix. */
export async function startTestService(
  environment: Record<string, string> = {},
  reuse?: { database: TestDatabase; redisPrefix: string },
  options: { logger?: Logger } = {},
): Promise<TestService> {
  const database = reuse?.database ?? (await createTestDatabase());
  const redisPrefix = reuse?.redisPrefix ?? `test-${process.pid}-${randomBytes(4).toString('hex')}`;
  const config = loadConfig({
    DATABASE_URL: database.url,
    REDIS_PREFIX: redisPrefix,
    PORT: '0',
    MIGRATE_ON_START: 'false',
    UPVEST_WEBHOOK_JWKS: JSON.stringify(providerKeys.jwks),
    PROJECTION_BATCH_WAIT_MS: '2',
    JOB_BACKOFF_MS: '200',
    JOB_BACKOFF_MAX_MS: '1000',
    // On the main port: test files run in parallel and must not compete for the fixed 9464.
    METRICS_PORT: '0',
    ...environment,
  });
  const service = await startService(config, options.logger ?? createLogger('error', process.env.TEST_LOGS !== 'true'));
  const prisma = createPrismaClient(database.url, 2);
  const baseUrl = `http://127.0.0.1:${service.port}`;
  return {
    service,
    baseUrl,
    metricsUrl: `http://127.0.0.1:${service.metricsPort}${config.metrics.path}`,
    prisma,
    database,
    redisPrefix,
    projectedEvents: () => prisma.webhookEvent.count({ where: { processedAt: { not: null } } }),
    deliver(body, options = {}) {
      return request(baseUrl)
        .post('/webhooks/upvest')
        .set({ ...signedHeaders(body, options.keyPair ?? providerKeys), ...options.headers })
        .send(body);
    },
    async stop() {
      await service.close();
      await prisma.$disconnect();
      if (reuse === undefined) {
        await deleteRedisKeys(redisPrefix);
        await database.drop();
      }
    },
  };
}

export function signedHeaders(body: string, keyPair: KeyPair = providerKeys): Record<string, string> {
  return headersSignedWith(body, { kid: keyPair.kid, privateKey: createPrivateKey(keyPair.privateKeyPem) });
}

/** The headers of a webhook delivery of `body`, signed (v6) with `key`. */
export function headersSignedWith(body: string, key: SigningKey): Record<string, string> {
  const bytes = Buffer.from(body);
  const headers = { 'content-type': 'application/json', 'content-length': String(bytes.length) };
  const signature = signWebhookRequest({ method: 'POST', path: '/webhooks/upvest', query: '', headers, body: bytes }, { key });
  return { ...headers, ...signature };
}

export async function deleteRedisKeys(prefix: string, redisUrl = 'redis://127.0.0.1:6379'): Promise<void> {
  const redis = new IORedis(redisUrl);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', redisKeyPattern(prefix), 'COUNT', 1000);
      if (keys.length > 0) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

/** Polls until `probe` returns a truthy value, or fails after `timeoutMs`. */
export async function eventually<T>(
  probe: () => Promise<T | undefined | null | false>,
  timeoutMs = 15000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
