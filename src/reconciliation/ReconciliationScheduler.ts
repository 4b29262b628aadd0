import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { Logger } from '../logging/logger';
import { Reconciler } from './Reconciler';

export const RECONCILIATION_QUEUE_NAME = 'upvest-reconciliation';
const SCHEDULER_ID = 'reconcile-stale-payments';

export interface ReconciliationSchedulerOptions {
  connection: Redis;
  prefix: string;
  /** 0 removes the schedule (also one left by an earlier deployment). */
  intervalMs: number;
}

/**
 * Runs the reconciler every intervalMs as a BullMQ job scheduler. Every worker replica runs this,
 * yet a run happens once per interval (one scheduler id) and never two at a time: the queue's
 * global concurrency is 1. A successful run clears the failed runs before it.
 */
export class ReconciliationScheduler {
  /** The reconciliation queue; readable for its job counts in the metrics. */
  readonly queue: Queue;
  private worker: Worker | undefined;

  constructor(
    private readonly reconciler: Pick<Reconciler, 'run'>,
    private readonly logger: Logger,
    private readonly options: ReconciliationSchedulerOptions,
  ) {
    this.queue = new Queue(RECONCILIATION_QUEUE_NAME, { connection: options.connection, prefix: options.prefix });
    this.queue.on('error', (error) => logger.debug('reconciliation queue error', { error: error.message }));
  }

  async start(): Promise<void> {
    if (this.options.intervalMs === 0) {
      await this.queue.removeJobScheduler(SCHEDULER_ID);
      return;
    }
    await this.queue.setGlobalConcurrency(1);
    await this.queue.upsertJobScheduler(
      SCHEDULER_ID,
      { every: this.options.intervalMs },
      { name: 'reconcile', opts: { attempts: 1, removeOnComplete: 100, removeOnFail: 100 } },
    );
    this.worker = new Worker(RECONCILIATION_QUEUE_NAME, () => this.reconciler.run(), {
      connection: this.options.connection,
      prefix: this.options.prefix,
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
    await this.queue.close();
  }
}
