import { Client } from 'pg';
import { Logger } from '../logging/logger';
import { WakeUp } from '../shared/WakeUp';

/** What the projection notifies, in the transaction that records status changes: NOTIFY is sent at its commit. */
export const CHANGES_CHANNEL = 'upvest_payment_changes';

const RECONNECT_DELAY_MS = 1000;

/**
 * Wakes long-polling readers of the change feed when a projection transaction with status
 * changes commits, in this process or any other: Postgres delivers NOTIFY to every listener.
 * One connection of its own listens; a lost connection is opened again, and readers fall back to
 * their own polling meanwhile.
 */
export class ChangeNotifications {
  private client: Client | undefined;
  private readonly wakeUp = new WakeUp();
  private stopped = false;
  private reconnect: NodeJS.Timeout | undefined;

  constructor(
    private readonly databaseUrl: string,
    private readonly logger: Logger,
  ) {}

  async start(): Promise<void> {
    const client = new Client({ connectionString: this.databaseUrl });
    client.on('notification', () => this.wakeAll());
    client.on('error', (error) => this.lost(client, error));
    client.on('end', () => this.lost(client));
    try {
      await client.connect();
      await client.query(`LISTEN ${CHANGES_CHANNEL}`);
      this.client = client;
    } catch (error) {
      this.lost(client, error as Error);
    }
  }

  /**
   * Resolves at the next notification, or after `timeoutMs`, whichever comes first; at once if one
   * came while nobody waited (the reader reads once more and finds what committed).
   */
  wait(timeoutMs: number): Promise<void> {
    return this.wakeUp.wait(timeoutMs);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.reconnect);
    this.wakeAll();
    await this.client?.end().catch(() => undefined);
  }

  private wakeAll(): void {
    this.wakeUp.wake();
  }

  private lost(client: Client, error?: Error): void {
    if (this.client !== undefined && this.client !== client) return;
    this.client = undefined;
    client.removeAllListeners();
    client.on('error', () => undefined);
    client.end().catch(() => undefined);
    if (this.stopped || this.reconnect !== undefined) return;
    this.logger.warn('change notifications lost; listening again shortly', { error: error?.message });
    this.reconnect = setTimeout(() => {
      this.reconnect = undefined;
      void this.start();
    }, RECONNECT_DELAY_MS);
    this.reconnect.unref();
  }
}
