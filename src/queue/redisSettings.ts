import { Redis } from 'ioredis';
import { Logger } from '../logging/logger';
import { RedisMayEvictError } from './errors';

/** The Redis settings BullMQ depends on, as the server reports them. */
type RedisSettings =
  | { readable: true; maxmemoryPolicy: string; appendonly: string }
  /** CONFIG is disabled or not permitted, as on many managed Redis services. */
  | { readable: false; problem: string };

/** BullMQ's requirement: a Redis that evicts keys under memory pressure corrupts its queues. */
const REQUIRED_MAXMEMORY_POLICY = 'noeviction';

async function readRedisSettings(redis: Redis): Promise<RedisSettings> {
  try {
    const [, maxmemoryPolicy] = (await redis.config('GET', 'maxmemory-policy')) as string[];
    const [, appendonly] = (await redis.config('GET', 'appendonly')) as string[];
    return { readable: true, maxmemoryPolicy: maxmemoryPolicy ?? 'unknown', appendonly: appendonly ?? 'unknown' };
  } catch (error) {
    const message = (error as Error).message;
    // Only a refused command means "cannot be read"; an unreachable Redis is no answer.
    if (/unknown command|NOPERM|no permissions|not allowed|disabled/i.test(message)) return { readable: false, problem: message };
    throw error;
  }
}

export interface RedisSettingsCheckOptions {
  logger: Logger;
  /** Told the policy each time it is read ("unknown" where CONFIG is disabled). */
  onPolicy(policy: string): void;
  /** Whether an evicting policy fails the check (in production), or is only reported. */
  enforce: boolean;
}

/**
 * The worker's check of the Redis it queues on: it must not evict keys. The inbox in Postgres
 * makes a lost job harmless, but BullMQ's own bookkeeping does not survive eviction. Says what it
 * found once, and again whenever it changes.
 */
export class RedisSettingsCheck {
  private lastReported: string | undefined;

  constructor(
    private readonly redis: Redis,
    private readonly options: RedisSettingsCheckOptions,
  ) {}

  /** Resolves when the settings are acceptable; rejects with the reason otherwise (also when Redis is unreachable). */
  async check(): Promise<void> {
    const settings = await readRedisSettings(this.redis);
    this.report(settings);
    if (this.options.enforce && settings.readable && settings.maxmemoryPolicy !== REQUIRED_MAXMEMORY_POLICY) {
      throw new RedisMayEvictError(settings.maxmemoryPolicy, REQUIRED_MAXMEMORY_POLICY);
    }
  }

  private report(settings: RedisSettings): void {
    const description = JSON.stringify(settings);
    if (description === this.lastReported) return;
    this.lastReported = description;
    const { logger } = this.options;
    if (!settings.readable) {
      this.options.onPolicy('unknown');
      logger.info('Redis does not allow CONFIG, so maxmemory-policy and appendonly cannot be checked; make sure of them at the provider', {
        problem: settings.problem,
      });
      return;
    }
    this.options.onPolicy(settings.maxmemoryPolicy);
    logger.info('redis settings', { maxmemoryPolicy: settings.maxmemoryPolicy, appendonly: settings.appendonly });
    if (settings.maxmemoryPolicy !== REQUIRED_MAXMEMORY_POLICY) {
      logger.error(`Redis may evict keys (maxmemory-policy ${settings.maxmemoryPolicy}); set it to ${REQUIRED_MAXMEMORY_POLICY}, which BullMQ requires`, {
        maxmemoryPolicy: settings.maxmemoryPolicy,
        readinessFails: this.options.enforce,
      });
    }
  }
}
