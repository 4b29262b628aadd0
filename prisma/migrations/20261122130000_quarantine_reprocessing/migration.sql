-- AlterTable
ALTER TABLE "quarantined_payloads" ADD COLUMN "reprocessed_at" TIMESTAMPTZ(6),
ADD COLUMN "reprocess_outcome" TEXT;
