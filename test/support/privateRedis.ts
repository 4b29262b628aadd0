import { ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import IORedis from 'ioredis';
import { freePort } from '../../testkit/freePort';

/** A redis-server of the test's own on a free port, which the test may stop, freeze and restart. */
export class PrivateRedis {
  private process: ChildProcess | undefined;

  private constructor(
    readonly port: number,
    private readonly settings: string[],
  ) {}

  /** `settings`: more redis-server arguments, e.g. ['--maxmemory-policy', 'allkeys-lru']. */
  static async start(settings: string[] = []): Promise<PrivateRedis> {
    const redis = new PrivateRedis(await freePort(), settings);
    await redis.start();
    return redis;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    // No persistence: a restart comes back empty, as a Redis that lost its data does.
    this.process = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', ...this.settings], {
      stdio: 'ignore',
    });
    const probe = new IORedis(this.url, { lazyConnect: true, retryStrategy: () => 50, maxRetriesPerRequest: null });
    try {
      await probe.connect().catch(() => undefined);
      await probe.ping();
    } finally {
      probe.disconnect();
    }
  }

  async stop(): Promise<void> {
    const child = this.process;
    if (child === undefined || child.exitCode !== null) return;
    child.kill('SIGCONT');
    child.kill('SIGTERM');
    await once(child, 'exit');
    this.process = undefined;
  }

  /** Kills it with SIGKILL, as a crash would: everything it held is gone. */
  async crash(): Promise<void> {
    const child = this.process;
    if (child === undefined || child.exitCode !== null) return;
    child.kill('SIGKILL');
    await once(child, 'exit');
    this.process = undefined;
  }

  /** Leaves connections open but unanswered, like a Redis that hangs. */
  freeze(): void {
    this.process?.kill('SIGSTOP');
  }

  thaw(): void {
    this.process?.kill('SIGCONT');
  }
}
