import { isPermanentDatabaseError } from '../database/databaseErrors';
import { eventKey } from '../events/upvestEvents';
import { Logger } from '../logging/logger';
import { batchJobId, JobEvent } from '../queue/jobs';
import { ProjectionJobs } from '../queue/ProjectionJobs';
import { activeTraceCarrier, TraceCarrier } from '../tracing/spans';
import { Delivery } from './delivery';
import { CommitDeadlineError } from './errors';
import { InboxWriter, ReceivedBatch } from './InboxWriter';

export interface InboxCommitterOptions {
  logger: Logger;
  /** Redis did not take a job; the inbox sweeper will queue its events. */
  onJobNotQueued?(): void;
}

/** Statements in flight at once. Deliveries that arrive meanwhile wait, and go together into the next one. */
const STATEMENTS_IN_FLIGHT = 2;
/** Most deliveries, and events, that share a statement. */
const MAX_DELIVERIES = 32;
const MAX_EVENTS = 5000;

interface Waiting {
  delivery: Delivery;
  /** Date.now() after which the delivery has been answered 503: it is dropped instead of written. */
  deadline: number;
  /** The delivery's trace, for the job of its events: deliveries committed together share a job, not a trace. */
  trace: TraceCarrier | undefined;
  resolve(received: ReceivedBatch): void;
  reject(error: Error): void;
}

/**
 * Commits deliveries to the inbox, and then queues the job that projects what they added. While
 * statements are in flight, deliveries that arrive wait and are committed together, in one
 * statement (group commit): under load each delivery costs Postgres a fraction of a statement and
 * of a WAL flush, and Redis a fraction of a job; when idle, a delivery goes alone and at once. A
 * delivery is never split: all its events are in one transaction. The job is queued after the
 * deliveries are answered, off their path; if Redis does not take it, the sweeper will.
 */
export class InboxCommitter {
  private waiting: Waiting[] = [];
  private inFlight = 0;
  private readonly queueing = new Set<Promise<void>>();

  constructor(
    private readonly inbox: InboxWriter,
    private readonly jobs: ProjectionJobs,
    private readonly options: InboxCommitterOptions,
  ) {}

  /**
   * Resolves once the delivery is committed. One still waiting at `deadline` (its answer was a
   * 503, and the provider will send it again) is dropped, so that a slow Postgres cannot make
   * deliveries pile up in memory.
   */
  commit(delivery: Delivery, deadline: number): Promise<ReceivedBatch> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ delivery, deadline, trace: activeTraceCarrier(), resolve, reject });
      this.writeNext();
    });
  }

  /** Resolves when the jobs of everything committed so far are queued (or failed to be): for shutdown. */
  async drain(): Promise<void> {
    await Promise.all(this.queueing);
  }

  private writeNext(): void {
    while (this.inFlight < STATEMENTS_IN_FLIGHT && this.waiting.length > 0) {
      const group = this.nextGroup();
      if (group.length === 0) return;
      this.inFlight += 1;
      void this.write(group).finally(() => {
        this.inFlight -= 1;
        this.writeNext();
      });
    }
  }

  private nextGroup(): Waiting[] {
    const now = Date.now();
    for (const late of this.waiting.filter((waiting) => waiting.deadline < now)) late.reject(new CommitDeadlineError());
    this.waiting = this.waiting.filter((waiting) => waiting.deadline >= now);
    let events = 0;
    let size = 0;
    while (size < this.waiting.length && size < MAX_DELIVERIES) {
      events += this.waiting[size].delivery.batch.events.length;
      if (size > 0 && events > MAX_EVENTS) break;
      size += 1;
    }
    return this.waiting.splice(0, size);
  }

  private async write(group: Waiting[]): Promise<void> {
    const jobId = batchJobId();
    let received: ReceivedBatch[];
    try {
      received = await this.inbox.receive(
        group.map((waiting) => waiting.delivery),
        jobId,
      );
    } catch (error) {
      if (group.length > 1 && isPermanentDatabaseError(error)) {
        // Postgres refused one delivery's content; the others must not be refused with it.
        for (const waiting of group) await this.write([waiting]);
        return;
      }
      for (const waiting of group) waiting.reject(error as Error);
      return;
    }
    group.forEach((waiting, index) => waiting.resolve(received[index]));
    const added: JobEvent[] = group.flatMap(({ delivery, trace }, index) =>
      delivery.batch.events
        .filter(({ event }) => received[index].added.has(eventKey(event.id)))
        .map(({ event }) => ({ id: event.id, type: event.type, ...(trace !== undefined && { trace }) })),
    );
    if (added.length > 0) this.queue(jobId, added);
  }

  /** After the answers are on their way: a 200 never waits for Redis. */
  private queue(jobId: string, events: JobEvent[]): void {
    const queued = new Promise((resolve) => setImmediate(resolve))
      .then(() => this.jobs.addBatch(jobId, events))
      .catch((error: Error) => {
        this.options.onJobNotQueued?.();
        this.options.logger.warn('committed events not queued; the inbox sweeper will queue them', { jobId, events: events.length, error: error.message });
      });
    this.queueing.add(queued);
    void queued.finally(() => this.queueing.delete(queued));
  }
}
