-- The change feed: each history row records the transaction that wrote it. A reader takes only
-- rows of transactions below the visibility horizon (every one of them has ended), in
-- (transaction_id, id) order, so that no change is skipped or returned twice whatever order
-- concurrent transactions commit in.

-- A constant default first: no table rewrite. Rows written before the feed sort first.
ALTER TABLE "payment_status_history" ADD COLUMN "transaction_id" xid8 NOT NULL DEFAULT '0';
ALTER TABLE "payment_status_history" ALTER COLUMN "transaction_id" SET DEFAULT pg_current_xact_id();

CREATE INDEX "payment_status_history_changes_idx" ON "payment_status_history" ("transaction_id", "id") WHERE "status_changed";

-- For services that read the database directly: the status changes after a position, at most
-- max_rows, only of transactions that have ended. Read on from the last row's
-- (transaction_id, id); start from ('0', 0).
CREATE FUNCTION "payment_changes_after"(after_transaction xid8, after_id bigint, max_rows integer)
RETURNS SETOF "payment_status_history"
LANGUAGE sql STABLE AS $$
  SELECT h.*
  FROM "payment_status_history" AS h
  WHERE h.status_changed
    AND (h.transaction_id, h.id) > (after_transaction, after_id)
    AND h.transaction_id < pg_snapshot_xmin(pg_current_snapshot())
  ORDER BY h.transaction_id, h.id
  LIMIT max_rows
$$;
