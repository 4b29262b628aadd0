import { Redis } from 'ioredis';
import { Writable } from 'node:stream';
import { createLogger } from '../../src/logging/logger';
import { RedisSettingsCheck } from '../../src/queue/redisSettings';

/** A Redis that answers CONFIG GET from `settings`, or fails every CONFIG with `error`. */
function fakeRedis(settings: Record<string, string>, error?: Error): Redis {
  return {
    config: async (_get: string, name: string) => {
      if (error !== undefined) throw error;
      return [name, settings[name]];
    },
  } as unknown as Redis;
}

function capturedCheck(redis: Redis, enforce: boolean) {
  const lines: Array<{ level: string; message: string }> = [];
  const stream = new Writable({
    write: (chunk: Buffer, _encoding, done) => {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line)));
      done();
    },
  });
  const policies: string[] = [];
  const check = new RedisSettingsCheck(redis, { logger: createLogger('debug', false, stream), onPolicy: (policy) => policies.push(policy), enforce });
  return { check, lines, policies };
}

describe('RedisSettingsCheck', () => {
  it('accepts noeviction and reports the policy and appendonly once', async () => {
    const { check, lines, policies } = capturedCheck(fakeRedis({ 'maxmemory-policy': 'noeviction', appendonly: 'no' }), true);

    await check.check();
    await check.check();

    expect(policies).toEqual(['noeviction']);
    expect(lines).toEqual([expect.objectContaining({ level: 'info', message: 'redis settings', maxmemoryPolicy: 'noeviction', appendonly: 'no' })]);
  });

  it('fails, where it is enforced, for a policy that evicts keys, and logs the error once', async () => {
    const { check, lines, policies } = capturedCheck(fakeRedis({ 'maxmemory-policy': 'allkeys-lru', appendonly: 'yes' }), true);

    await expect(check.check()).rejects.toThrow('maxmemory-policy is allkeys-lru; BullMQ requires noeviction');
    await expect(check.check()).rejects.toThrow();

    expect(policies).toEqual(['allkeys-lru']);
    expect(lines.filter((line) => line.level === 'error')).toHaveLength(1);
  });

  it('only reports an evicting policy where it is not enforced', async () => {
    const { check, lines } = capturedCheck(fakeRedis({ 'maxmemory-policy': 'volatile-lru', appendonly: 'no' }), false);

    await expect(check.check()).resolves.toBeUndefined();
    expect(lines.map((line) => line.level)).toEqual(['info', 'error']);
  });

  it('says once that CONFIG is disabled, and goes on', async () => {
    const { check, lines, policies } = capturedCheck(fakeRedis({}, new Error("ERR unknown command 'CONFIG', with args beginning with: 'GET'")), true);

    await check.check();
    await check.check();

    expect(policies).toEqual(['unknown']);
    expect(lines).toHaveLength(1);
    expect(lines[0].message).toMatch(/does not allow CONFIG/);
  });

  it('fails when Redis does not answer at all', async () => {
    const { check } = capturedCheck(fakeRedis({}, new Error('Connection is closed.')), true);
    await expect(check.check()).rejects.toThrow('Connection is closed.');
  });
});
