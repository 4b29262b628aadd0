-- CreateEnum
CREATE TYPE "event_source" AS ENUM ('webhook', 'reconciliation', 'backfill');

-- AlterTable
ALTER TABLE "webhook_events" ADD COLUMN "source" "event_source" NOT NULL DEFAULT 'webhook',
ALTER COLUMN "webhook_id" DROP NOT NULL;

-- AlterTable
ALTER TABLE "payment_status_history" ADD COLUMN "source" "event_source" NOT NULL DEFAULT 'webhook';

-- AlterTable
ALTER TABLE "withdrawals" ADD COLUMN "reconciled_at" TIMESTAMPTZ(6);

-- AlterTable
ALTER TABLE "direct_debits" ADD COLUMN "reconciled_at" TIMESTAMPTZ(6);

-- CreateTable
CREATE TABLE "backfill_progress" (
    "payment_kind" "payment_kind" NOT NULL,
    "since" TIMESTAMPTZ(6) NOT NULL,
    "next_offset" INTEGER NOT NULL DEFAULT 0,
    "projected" INTEGER NOT NULL DEFAULT 0,
    "completed_at" TIMESTAMPTZ(6),
    "updated_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "backfill_progress_pkey" PRIMARY KEY ("payment_kind","since")
);
