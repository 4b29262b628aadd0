import { once } from 'node:events';
import { createLogger } from '../../src/logging/logger';
import { OpenResources } from '../../src/wiring/OpenResources';
import { openRedisConnection } from '../../src/wiring/infrastructure';
import { eventually } from '../support/testService';

describe('openRedisConnection', () => {
  it.each(['producer', 'worker'] as const)('closes a %s connection to a Redis that is not there: it stops reconnecting', async (role) => {
    const resources = new OpenResources(createLogger('error', true));
    const connection = openRedisConnection('redis://127.0.0.1:1', role, resources, createLogger('error', true));
    // At least one attempt has failed: the connection is waiting to reconnect.
    await once(connection, 'error');

    await resources.closeAll();

    // 'end' is final: ioredis never reconnects from it.
    await eventually(async () => connection.status === 'end', 10_000, 'the end of the connection');
  });

  it('closes a connected one with QUIT', async () => {
    const resources = new OpenResources(createLogger('error', true));
    const connection = openRedisConnection(process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379', 'producer', resources, createLogger('error', true));
    await once(connection, 'ready');

    await resources.closeAll();

    // 'end' is final: ioredis never reconnects from it.
    await eventually(async () => connection.status === 'end', 10_000, 'the end of the connection');
  });
});
