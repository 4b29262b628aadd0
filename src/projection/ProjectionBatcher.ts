import { isPermanentDatabaseError } from '../database/databaseErrors';
import { EventOutcome, ProjectionStore, ReceivedEvent } from './ProjectionStore';

/** The event cannot be projected however often it is retried; the message says why. */
export class PermanentProjectionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PermanentProjectionError';
  }
}

interface Waiting {
  received: ReceivedEvent;
  resolve(outcome: EventOutcome): void;
  reject(error: Error): void;
}

/**
 * Gathers events handed over one by one (one per queue job) into batches for the store, so that
 * a few transactions carry many events. A batch is written when it is full or `maxWaitMs` after
 * its first event, whichever comes first.
 */
export class ProjectionBatcher {
  private waiting: Waiting[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly store: ProjectionStore,
    private readonly maxSize: number,
    private readonly maxWaitMs: number,
  ) {}

  project(received: ReceivedEvent): Promise<EventOutcome> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ received, resolve, reject });
      if (this.waiting.length >= this.maxSize) this.flush();
      else this.timer ??= setTimeout(() => this.flush(), this.maxWaitMs);
    });
  }

  private flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.waiting;
    this.waiting = [];
    void this.write(batch);
  }

  private async write(batch: Waiting[]): Promise<void> {
    try {
      const outcomes = await this.store.projectBatch(batch.map((waiting) => waiting.received));
      for (const waiting of batch) waiting.resolve(outcomes.get(waiting.received.event.id) ?? 'duplicate');
    } catch (error) {
      if (!isPermanentDatabaseError(error)) {
        for (const waiting of batch) waiting.reject(error as Error);
      } else if (batch.length > 1) {
        // One bad event must not hold back the others: write them one by one to find it.
        for (const waiting of batch) await this.write([waiting]);
      } else {
        batch[0].reject(new PermanentProjectionError((error as Error).message));
      }
    }
  }
}
