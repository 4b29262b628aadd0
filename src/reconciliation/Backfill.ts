import { PAYMENT_KINDS, PaymentKind } from '../events/upvestEvents';
import { Logger } from '../logging/logger';
import { PrismaClient } from '../database/prismaClient';
import { ProjectionStore, ReceivedEvent } from '../projection/ProjectionStore';
import { UpvestApi } from '../provider/UpvestApi';
import { fetchedPaymentEvent } from './fetchedPaymentEvent';

export interface BackfillOptions {
  /** Payments created before this are not projected. */
  since: Date;
  pageSize: number;
  /** Forget saved progress for this `since` and start from the newest payment again. */
  restart: boolean;
  onProgress(progress: BackfillProgress): void;
}

export interface BackfillProgress {
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

interface SavedProgress {
  next_offset: number;
  projected: number;
  completed_at: Date | null;
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
    private readonly prisma: PrismaClient,
    private readonly api: UpvestApi,
    private readonly store: ProjectionStore,
    private readonly logger: Logger,
  ) {}

  async run(options: BackfillOptions): Promise<BackfillProgress[]> {
    const results: BackfillProgress[] = [];
    for (const kind of PAYMENT_KINDS) results.push(await this.backfillKind(kind, options));
    return results;
  }

  private async backfillKind(kind: PaymentKind, options: BackfillOptions): Promise<BackfillProgress> {
    const saved = await this.savedProgress(kind, options.since, options.restart);
    const progress: BackfillProgress = {
      kind,
      offset: saved.next_offset,
      totalCount: undefined,
      projected: saved.projected,
      invalid: 0,
      done: saved.completed_at !== null,
      alreadyComplete: saved.completed_at !== null,
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
      if (batch.length > 0) await this.store.projectBatch(batch);
      progress.offset += page.data.length;
      progress.projected += batch.length;
      progress.totalCount = page.meta.total_count;
      progress.done = reachedOlder || page.data.length === 0 || progress.offset >= page.meta.total_count;
      await this.saveProgress(kind, options.since, progress);
      options.onProgress({ ...progress });
    }
    return progress;
  }

  private async savedProgress(kind: PaymentKind, since: Date, restart: boolean): Promise<SavedProgress> {
    if (restart) {
      await this.prisma.$executeRawUnsafe(`DELETE FROM backfill_progress WHERE payment_kind = $1::payment_kind AND since = $2`, kind, since);
    }
    const [row] = await this.prisma.$queryRawUnsafe<SavedProgress[]>(
      `INSERT INTO backfill_progress (payment_kind, since) VALUES ($1::payment_kind, $2)
       ON CONFLICT (payment_kind, since) DO UPDATE SET updated_at = backfill_progress.updated_at
       RETURNING next_offset, projected, completed_at`,
      kind,
      since,
    );
    return row;
  }

  private async saveProgress(kind: PaymentKind, since: Date, progress: BackfillProgress): Promise<void> {
    await this.prisma.$executeRawUnsafe(
      `UPDATE backfill_progress SET next_offset = $3, projected = $4, updated_at = now(),
         completed_at = CASE WHEN $5 THEN now() END
       WHERE payment_kind = $1::payment_kind AND since = $2`,
      kind,
      since,
      progress.offset,
      progress.projected,
      progress.done,
    );
  }
}
