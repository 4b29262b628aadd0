import IORedis, { Redis } from 'ioredis';

/**
 * Producer connections fail fast instead of queueing commands while Redis is away or hangs: a
 * job that Redis does not take is queued later by the inbox sweeper, and nothing waits in memory
 * meanwhile. Worker connections must retry forever (BullMQ requires maxRetriesPerRequest: null
 * for blocking commands).
 */
const PRODUCER_COMMAND_TIMEOUT_MS = 5000;

export function createRedisConnection(url: string, role: 'producer' | 'worker'): Redis {
  return new IORedis(url, {
    connectTimeout: 5000,
    // Commands issued in the same tick share one socket write: far fewer syscalls per job.
    enableAutoPipelining: true,
    ...(role === 'producer' ? { maxRetriesPerRequest: 1, enableOfflineQueue: false, commandTimeout: PRODUCER_COMMAND_TIMEOUT_MS } : { maxRetriesPerRequest: null }),
    retryStrategy: (attempt) => Math.min(attempt * 200, 2000),
  });
}
