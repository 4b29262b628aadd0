import { ReceivedEvent } from '../events/receivedEvent';
import { PAYMENT_KINDS, PaymentKind } from '../events/upvestEvents';
import { Logger } from '../logging/logger';
import { ProjectionStore } from '../projection/ProjectionStore';
import { UpvestApi } from '../provider/UpvestApi';
import { BackfillProgressStore } from './BackfillProgressStore';
import { fetchedPaymentEvent } from './fetchedPaymentEvent';

export interface BackfillOptions {
  /** Payments created before this are not projected. */
  since: Date;
  pageSize: number;
  /** Forget saved progress for this `since` and start from the newest payment again. */
  restart: boolean;
  onProgress(report: BackfillReport): void;
}

/** Where the backfill of one kind of payment stands: told after each page, and answered at the end. */
export interface BackfillReport {
  kind: PaymentKind;
  /** Payments read so far (the offset of the next page). */
  offset: number;
  /** As the provider last reported it. */
  totalCount: number | undefined;
  projected: number;
  invalid: number;
  done: boolean;
  /** True when an earlier run had already finished this kind for this `since`. */
  alreadyComplete: boolean;
}

/**
 * Pages through the provider's withdrawals and direct debits, newest first, and projects every
 * payment created since a date, as events of source 'backfill' (same rules as webhooks, so it is
 * safe to run against a live table). After each page the offset is saved: a run that stops
 * resumes there. Payments created during the run push older ones to later offsets, so a resumed
 * run may read some twice, harmlessly, but never skips one.
 */
export class Backfill {
  constructor(
    private readonly progress: BackfillProgressStore,
    private readonly api: UpvestApi,
    private readonly projection: ProjectionStore,
    private readonly logger: Logger,
  ) {}

  async run(options: BackfillOptions): Promise<BackfillReport[]> {
    const results: BackfillReport[] = [];
    for (const kind of PAYMENT_KINDS) results.push(await this.backfillKind(kind, options));
    return results;
  }

  private async backfillKind(kind: PaymentKind, options: BackfillOptions): Promise<BackfillReport> {
    const saved = await this.progress.saved(kind, options.since, options.restart);
    const progress: BackfillReport = {
      kind,
      offset: saved.nextOffset,
      totalCount: undefined,
      projected: saved.projected,
      invalid: 0,
      done: saved.completedAt !== null,
      alreadyComplete: saved.completedAt !== null,
    };
    while (!progress.done) {
      const page = await this.api.listPayments(kind, { limit: options.pageSize, offset: progress.offset, sort: 'created_at', order: 'DESC' });
      const receivedAt = new Date();
      const batch: ReceivedEvent[] = [];
      let reachedOlder = false;
      for (const item of page.data) {
        const fetched = fetchedPaymentEvent(kind, item, 'backfill', receivedAt);
        if ('problem' in fetched) {
          progress.invalid += 1;
          this.logger.error('backfill skipped a payment it cannot use', { kind, offset: progress.offset, problem: fetched.problem });
        } else if (Date.parse(fetched.received.event.object.created_at) < options.since.getTime()) {
          reachedOlder = true;
        } else {
          batch.push(fetched.received);
        }
      }
      if (batch.length > 0) await this.projection.projectBatch(batch);
      progress.offset += page.data.length;
      progress.projected += batch.length;
      progress.totalCount = page.meta.total_count;
      progress.done = reachedOlder || page.data.length === 0 || progress.offset >= page.meta.total_count;
      await this.progress.save(kind, options.since, progress);
      options.onProgress({ ...progress });
    }
    return progress;
  }
}
