import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { Logger } from '../logging/logger';
import { RECONCILIATION_SCHEDULER_ID } from '../queue/redisKeys';
import { Reconciler } from './Reconciler';

export interface ReconciliationSchedulerOptions {
  /** The worker's own connection: BullMQ's blocking commands need one that retries forever. */
  connection: Redis;
  /** 0 removes the schedule (also one left by an earlier deployment). */
  intervalMs: number;
}

/**
 * Runs the reconciler every intervalMs as a BullMQ job scheduler. Every worker replica runs this,
 * yet a run happens once per interval (one scheduler id) and never two at a time: the queue's
 * global concurrency is 1. A successful run clears the failed runs before it.
 */
export class ReconciliationScheduler {
  private worker: Worker | undefined;

  constructor(
    private readonly reconciler: Pick<Reconciler, 'run'>,
    /** The reconciliation queue; its owner closes it. */
    private readonly queue: Queue,
    private readonly logger: Logger,
    private readonly options: ReconciliationSchedulerOptions,
  ) {}

  async start(): Promise<void> {
    if (this.options.intervalMs === 0) {
      await this.queue.removeJobScheduler(RECONCILIATION_SCHEDULER_ID);
      return;
    }
    await this.queue.setGlobalConcurrency(1);
    await this.queue.upsertJobScheduler(
      RECONCILIATION_SCHEDULER_ID,
      { every: this.options.intervalMs },
      { name: 'reconcile', opts: { attempts: 1, removeOnComplete: 100, removeOnFail: 100 } },
    );
    this.worker = new Worker(this.queue.name, () => this.reconciler.run(), {
      connection: this.options.connection,
      prefix: this.queue.opts.prefix,
      concurrency: 1,
    });
    this.worker.on('failed', (_job, error) => this.logger.error('reconciliation run failed', { error: error.message }));
    // A failed run is worth nothing once a later one has succeeded (each run checks every stale row),
    // so the failed set, and the alert on it, means "reconciliation has not succeeded since".
    this.worker.on('completed', () => {
      this.queue.clean(0, 0, 'failed').catch((error: Error) => this.logger.warn('could not clear failed reconciliation runs', { error: error.message }));
    });
    // Mostly Redis connection errors; BullMQ recovers from them. Same level as the projection worker's.
    this.worker.on('error', (error) => this.logger.warn('reconciliation worker error', { error: error.message }));
  }

  /** Lets a running reconciliation finish, then stops. */
  async close(): Promise<void> {
    await this.worker?.close();
  }
}
