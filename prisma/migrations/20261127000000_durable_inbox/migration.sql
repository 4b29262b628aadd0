-- webhook_events becomes the durable inbox. The webhook's 200 now means that every new event of
-- the delivery has a row here (its JSON exactly as received), committed before the answer; the
-- projection then marks the row projected. Redis only carries the work, never the only copy.

-- AlterTable: json keeps the text as received (jsonb would reorder keys and drop duplicates).
-- This rewrites the table once; the rows from before stay, all of them projected.
ALTER TABLE "webhook_events" ALTER COLUMN "event" SET DATA TYPE JSON USING "event"::json,
ALTER COLUMN "outcome" DROP NOT NULL,
ALTER COLUMN "processed_at" DROP NOT NULL,
ALTER COLUMN "processed_at" DROP DEFAULT,
ADD COLUMN "request_id" TEXT,
ADD COLUMN "job_id" TEXT,
-- Rows from before the inbox were projected in one attempt: they read 1, new rows start at 0.
ADD COLUMN "attempts" INTEGER NOT NULL DEFAULT 1,
ADD COLUMN "last_error" TEXT,
ADD COLUMN "failed_at" TIMESTAMPTZ(6);

ALTER TABLE "webhook_events" ALTER COLUMN "attempts" SET DEFAULT 0;

-- CreateIndex: only the events not projected yet, for the sweeper; it stays as small as the backlog.
CREATE INDEX "webhook_events_unprojected_idx" ON "webhook_events"("received_at") WHERE "processed_at" IS NULL;

-- CreateView: each event's state, for operators.
CREATE VIEW "webhook_inbox" AS
SELECT "id", "type", "source", "request_id", "received_at",
       CASE WHEN "processed_at" IS NOT NULL THEN 'projected'
            WHEN "failed_at" IS NOT NULL THEN 'failed'
            ELSE 'received' END AS "state",
       "attempts", "last_error", "failed_at", "processed_at" AS "projected_at", "outcome", "job_id"
FROM "webhook_events";
