import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { withTimeout } from '../shared/withTimeout';
import { QueueUnavailableError } from './errors';
import { BATCH_JOB_NAME, eventJobId, JobEvent, ProjectionJobData } from './jobs';

/** Job states in which a job still holds its events: it will project them, or waits, failed, for an operator. */
const HOLDING_STATES: ReadonlySet<string> = new Set(['waiting', 'prioritized', 'waiting-children', 'delayed', 'active', 'failed']);

/**
 * The events queue as the inbox uses it: adds the jobs that project inbox events, and tells which
 * jobs still exist. A job only names inbox rows; losing one loses no event, because the sweeper
 * finds the rows without a live job and adds a new one.
 */
export class ProjectionJobs {
  /** `connection`: the queue's; adding fails at once while it is not connected. */
  constructor(
    readonly queue: Queue,
    readonly connection: Redis,
  ) {}

  /** Adds a job that projects these inbox events under `jobId` (written on their rows before). Adding it twice adds it once. */
  async addBatch(jobId: string, events: JobEvent[]): Promise<void> {
    this.assertConnected();
    await this.queue.add(BATCH_JOB_NAME, { events } satisfies ProjectionJobData, { jobId });
  }

  /**
   * One job per event, named after its type, so that each event's failure is seen and retried on
   * its own. `attempts`: what the job they come from had left.
   */
  async addPerEvent(events: JobEvent[], attempts: number): Promise<void> {
    this.assertConnected();
    await this.queue.addBulk(
      events.map((event) => ({ name: event.type, data: { events: [event] } satisfies ProjectionJobData, opts: { jobId: eventJobId(event.id), attempts } })),
    );
  }

  // BullMQ waits for a connection that was never up (Redis down at start) instead of failing: every
  // delivery would leave a pending job in memory until Redis came back.
  private assertConnected(): void {
    if (this.connection.status !== 'ready') throw new QueueUnavailableError(`Redis is not connected (${this.connection.status})`);
  }

  /** For an operator's command: resolves once Redis answers, or fails after `timeoutMs` saying it does not. */
  async waitUntilReady(timeoutMs: number, redisUrl: string): Promise<void> {
    await withTimeout(this.queue.waitUntilReady(), timeoutMs, () => new QueueUnavailableError(`Redis not reachable at ${redactedUrl(redisUrl)}`));
  }

  /** The ids among `jobIds` whose job still holds its events. */
  async holding(jobIds: Iterable<string>): Promise<Set<string>> {
    const ids = [...new Set(jobIds)];
    const states = await Promise.all(ids.map((id) => this.queue.getJobState(id)));
    return new Set(ids.filter((_, index) => HOLDING_STATES.has(states[index])));
  }
}

/** The URL without its password, for messages. */
function redactedUrl(url: string): string {
  const parsed = new URL(url);
  if (parsed.password !== '') parsed.password = '***';
  return parsed.toString();
}
