import path from 'node:path';
import type { ReceivedMessage, SubscriberControl } from './pushSubscriber';
import { ServiceProcess } from './ServiceProcess';

const SUBSCRIBER_SOURCE = path.resolve(__dirname, 'pushSubscriber.ts');

/** A push subscriber in a process of its own (testkit/pushSubscriber.ts), and how to steer and read it. */
export class PushSubscriberProcess {
  private constructor(private readonly server: ServiceProcess) {}

  /** `verify: false`: it only counts what arrives (the bench). */
  static async start(name: string, options: { verify?: boolean; port?: number } = {}): Promise<PushSubscriberProcess> {
    const server = await ServiceProcess.start({
      name,
      args: ['--import', 'tsx', SUBSCRIBER_SOURCE],
      env: { ...process.env, SUBSCRIBER_VERIFY: options.verify === false ? 'off' : 'on' },
      until: '/healthz',
      port: options.port,
    });
    return new PushSubscriberProcess(server);
  }

  /** Where the push is sent. */
  get url(): string {
    return `${this.server.baseUrl}/hook`;
  }

  get port(): number {
    return this.server.port;
  }

  get process(): ServiceProcess {
    return this.server;
  }

  async control(control: Partial<SubscriberControl>): Promise<void> {
    const response = await fetch(`${this.server.baseUrl}/control`, { method: 'PUT', body: JSON.stringify(control) });
    if (!response.ok) throw new Error(`control answered ${response.status}`);
  }

  /** Every message that arrived (answered or not), in arrival order, and how many requests came. */
  async received(): Promise<{ count: number; firstAt?: number; lastAt?: number; received: ReceivedMessage[] }> {
    const response = await fetch(`${this.server.baseUrl}/received`);
    return (await response.json()) as { count: number; firstAt?: number; lastAt?: number; received: ReceivedMessage[] };
  }

  /** The messages it answered 2xx. */
  async acknowledged(): Promise<ReceivedMessage[]> {
    return (await this.received()).received.filter((message) => message.status >= 200 && message.status < 300);
  }

  stop(): Promise<number | null> {
    return this.server.stop('SIGTERM', 5000);
  }
}
