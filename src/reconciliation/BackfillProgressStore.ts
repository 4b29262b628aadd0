import { PrismaClient } from '../database/prismaClient';
import { PaymentKind } from '../events/upvestEvents';

/** Where an earlier backfill of one kind, for one `since`, stopped. */
export interface SavedProgress {
  nextOffset: number;
  projected: number;
  completedAt: Date | null;
}

/** backfill_progress: after each page, how far a backfill got, so that an interrupted one resumes there. */
export class BackfillProgressStore {
  constructor(private readonly prisma: PrismaClient) {}

  /** The progress saved for this kind and `since`, created at the start when there is none (or `restart` forgets it). */
  async saved(kind: PaymentKind, since: Date, restart: boolean): Promise<SavedProgress> {
    const key = { paymentKind: kind, since };
    if (restart) await this.prisma.backfillProgress.deleteMany({ where: key });
    // Not upsert(), which Prisma runs here as a select and then an insert, and two runs could both insert.
    await this.prisma.backfillProgress.createMany({ data: [key], skipDuplicates: true });
    return this.prisma.backfillProgress.findUniqueOrThrow({
      where: { paymentKind_since: key },
      select: { nextOffset: true, projected: true, completedAt: true },
    });
  }

  async save(kind: PaymentKind, since: Date, progress: { offset: number; projected: number; done: boolean }): Promise<void> {
    const now = new Date();
    await this.prisma.backfillProgress.updateMany({
      where: { paymentKind: kind, since },
      data: { nextOffset: progress.offset, projected: progress.projected, updatedAt: now, completedAt: progress.done ? now : null },
    });
  }
}
