import { Logger } from '../logging/logger';
import { batchJobId, eventJobId } from '../queue/jobs';
import { ProjectionJobs } from '../queue/ProjectionJobs';
import { InboxSweeperMetrics } from './inboxMetrics';
import { SweeperInbox } from './SweeperInbox';

export interface InboxSweeperOptions {
  intervalMs: number;
  /** Only events received longer ago than this are looked at: younger ones may still be on their way into a job. */
  minAgeSeconds: number;
  /** Most events per job it queues. */
  batchSize: number;
  metrics?: InboxSweeperMetrics;
}

/**
 * Closes every gap between the inbox (Postgres) and the queue (Redis): every interval, it queues
 * again the committed events that are neither projected nor held by a live job. That happens
 * when Redis lost the job (flushed, evicted, restarted empty, failed over to a replica that
 * missed it) or the process died between committing a delivery and queueing its job. Each
 * worker runs one; a lock in Postgres lets one sweep run at a time. Queueing again is harmless:
 * an event projected twice is projected once.
 */
export class InboxSweeper {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;
  private stopped = false;

  constructor(
    private readonly inbox: SweeperInbox,
    private readonly jobs: ProjectionJobs,
    private readonly logger: Logger,
    private readonly options: InboxSweeperOptions,
  ) {}

  /** Sweeps now, then every interval, until stop(). */
  start(): void {
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  /** One sweep; the number of events queued again, or undefined when another process was sweeping. */
  async sweep(): Promise<number | undefined> {
    return this.inbox.whileSweeping(async () => {
      const { minAgeSeconds } = this.options;
      const pending = await this.inbox.pendingJobIds(minAgeSeconds);
      if (pending.length === 0) return 0;
      const held = await this.jobs.holding(pending);
      const lostJobs = pending.filter((jobId) => !held.has(jobId));
      let requeued = 0;
      let jobs = 0;
      for (let after = ''; lostJobs.length > 0; ) {
        const page = await this.inbox.pendingEvents(lostJobs, minAgeSeconds, after, this.options.batchSize);
        if (page.length === 0) break;
        after = page[page.length - 1].id;
        // An event split off into a job of its own is held there even when its batch job is gone.
        const ownJobs = await this.jobs.holding(page.map((event) => eventJobId(event.id)));
        const orphans = page.filter((event) => !ownJobs.has(eventJobId(event.id)));
        if (orphans.length === 0) continue;
        const jobId = batchJobId();
        // The rows name the new job first: if adding it fails, the next sweep finds them again.
        await this.inbox.assignJob(
          orphans.map((event) => event.id),
          jobId,
        );
        await this.jobs.addBatch(jobId, orphans);
        requeued += orphans.length;
        jobs += 1;
      }
      if (requeued > 0) {
        this.options.metrics?.eventsRequeued(requeued);
        this.logger.warn('inbox sweeper queued events that had no live job', { events: requeued, jobs, olderThanSeconds: minAgeSeconds });
      }
      return requeued;
    });
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.sweep()
        .catch((error: Error) => this.logger.warn('inbox sweep failed; the next one tries again', { error: error.message }))
        .finally(() => {
          this.running = undefined;
          this.schedule(this.options.intervalMs);
        });
    }, delayMs);
  }
}
