import { randomBytes } from 'node:crypto';
import { Agent, request as httpRequest } from 'node:http';
import { batchOf, withdrawalEvent } from '../../testkit/paymentEvents';
import { startServiceFromSources } from '../../testkit/ServiceProcess';
import { openStalledConnection } from '../support/stalledConnection';
import { createTestDatabase } from '../support/testDatabase';
import { deleteRedisKeys, providerKeys, signedHeaders, startTestService, TestService } from '../support/testService';

let harness: TestService;

beforeAll(async () => {
  harness = await startTestService();
});

afterAll(async () => {
  await harness.prisma.$disconnect().catch(() => undefined);
  await harness.database.drop();
});

/** Delivers one signed batch over a keep-alive connection of `agent`. */
function deliver(agent: Agent, port: number): Promise<number> {
  const body = batchOf(withdrawalEvent());
  return new Promise((resolve, reject) => {
    const call = httpRequest(
      { host: '127.0.0.1', port, path: '/webhooks/upvest', method: 'POST', agent, headers: signedHeaders(body) },
      (response) => {
        response.resume();
        response.on('end', () => resolve(response.statusCode ?? 0));
      },
    );
    call.on('error', reject);
    call.end(body);
  });
}

describe('graceful shutdown', () => {
  it('finishes in-flight requests and closes even while keep-alive clients keep sending', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 8 });
    let sending = true;
    const statuses: number[] = [];
    const clients = Array.from({ length: 8 }, async () => {
      while (sending) {
        try {
          statuses.push(await deliver(agent, harness.service.port));
        } catch {
          return; // the server stopped accepting connections
        }
      }
    });
    await new Promise((resolve) => setTimeout(resolve, 200));

    const startedAt = Date.now();
    await harness.stop();
    const closeMs = Date.now() - startedAt;
    sending = false;
    await Promise.all(clients);
    agent.destroy();

    expect(closeMs).toBeLessThan(5000);
    expect(statuses.length).toBeGreaterThan(0);
    expect(statuses.every((status) => status === 200)).toBe(true);
  });
});

describe('graceful shutdown with a stalled client', () => {
  it.each([
    ['in the middle of the headers', 'POST /webhooks/upvest HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Ty'],
    ['in the middle of the body', 'POST /webhooks/upvest HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"payload"'],
  ])('exits 0 soon after SIGTERM while a client is stalled %s', async (_, bytes) => {
    const database = await createTestDatabase();
    const redisPrefix = `test-${process.pid}-${randomBytes(4).toString('hex')}`;
    try {
      const service = await startServiceFromSources({
        ROLE: 'api',
        DATABASE_URL: database.url,
        REDIS_PREFIX: redisPrefix,
        MIGRATE_ON_START: 'false',
        UPVEST_WEBHOOK_JWKS: JSON.stringify(providerKeys.jwks),
        SHUTDOWN_TIMEOUT_MS: '30000',
      });
      const socket = await openStalledConnection(Number(new URL(service.baseUrl).port), bytes);

      const startedAt = Date.now();
      const code = await service.stop('SIGTERM');
      const stopMs = Date.now() - startedAt;
      socket.destroy();

      expect(code).toBe(0);
      expect(stopMs).toBeLessThan(10_000);
    } finally {
      await deleteRedisKeys(redisPrefix);
      await database.drop();
    }
  }, 90_000);
});
