import { Logger } from '../logging/logger';

/**
 * What a process opened (pools, connections, queues, background loops), closed in reverse order,
 * so that nothing is closed before what still uses it: the ingest's pending jobs are queued
 * before Redis is let go, and Redis before Postgres.
 */
export class OpenResources {
  private readonly closers: Array<{ name: string; close: () => Promise<unknown> }> = [];

  constructor(private readonly logger: Logger) {}

  /** Registers `resource`, to be closed with `close`; returns it. */
  add<T>(name: string, resource: T, close: (resource: T) => Promise<unknown>): T {
    this.closers.push({ name, close: () => close(resource) });
    return resource;
  }

  /** Closes what was opened, the last first; a failure is logged and the rest still closed. */
  async closeAll(): Promise<void> {
    for (const { name, close } of this.closers.splice(0).reverse()) {
      await close().catch((error) => this.logger.warn('error while closing', { component: name, error: String(error) }));
    }
  }
}
