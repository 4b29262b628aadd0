-- Push: subscriptions that are sent every status change matching their filters, signed in the
-- Standard Webhooks form, and the deliveries of those changes to them.

CREATE TYPE "push_subscription_state" AS ENUM ('active', 'failing', 'disabled');

CREATE TABLE "push_subscriptions" (
  "id" uuid PRIMARY KEY,
  "url" text NOT NULL,
  "description" text NOT NULL DEFAULT '',
  -- Null: every kind, every status.
  "payment_kinds" payment_kind[],
  "statuses" payment_status[],
  -- whsec_… secrets, the current one first; during a rotation the previous one follows until
  -- previous_secret_expires_at, and each delivery carries a signature by both.
  "secrets" text[] NOT NULL,
  "previous_secret_expires_at" timestamptz(6),
  "state" "push_subscription_state" NOT NULL DEFAULT 'active',
  "failing_since" timestamptz(6),
  -- How far the change feed has been taken into push_deliveries (the dispatcher's cursor).
  "dispatched_transaction" xid8 NOT NULL,
  "dispatched_id" bigint NOT NULL,
  -- The subscription's position in the feed: every matching change up to it was answered 2xx.
  -- Advanced only after a 2xx; a replay sets both cursors back.
  "delivered_transaction" xid8 NOT NULL,
  "delivered_id" bigint NOT NULL,
  "created_at" timestamptz(6) NOT NULL DEFAULT now(),
  "updated_at" timestamptz(6) NOT NULL DEFAULT now()
);

-- One row per change and subscription: the outbox the senders claim from, and the record of
-- its attempts. Delivered rows are kept for a while, then pruned.
CREATE TABLE "push_deliveries" (
  "subscription_id" uuid NOT NULL REFERENCES "push_subscriptions" ("id") ON DELETE CASCADE,
  "history_id" bigint NOT NULL,
  "transaction_id" xid8 NOT NULL,
  "payment_kind" payment_kind NOT NULL,
  "payment_id" uuid NOT NULL,
  -- When the change was recorded: the lag of a delivery is measured from it.
  "recorded_at" timestamptz(6) NOT NULL,
  "attempts" integer NOT NULL DEFAULT 0,
  "first_attempt_at" timestamptz(6),
  "last_attempt_at" timestamptz(6),
  -- Due then; while an attempt is in flight, the end of its lease; while the change waits behind
  -- an earlier one of its payment, when to look at it again.
  "next_attempt_at" timestamptz(6) NOT NULL DEFAULT now(),
  -- Claimed for an attempt whose outcome is not recorded yet.
  "in_flight" boolean NOT NULL DEFAULT false,
  "last_response_code" integer,
  "last_error" text,
  "delivered_at" timestamptz(6),
  PRIMARY KEY ("subscription_id", "history_id")
);

-- The oldest undelivered change: the position, and the backlog's age.
CREATE INDEX "push_deliveries_undelivered_idx" ON "push_deliveries" ("subscription_id", "transaction_id", "history_id") WHERE "delivered_at" IS NULL;
CREATE INDEX "push_deliveries_due_idx" ON "push_deliveries" ("subscription_id", "next_attempt_at") WHERE "delivered_at" IS NULL;
-- A change is sent only once the earlier changes of its payment were delivered.
CREATE INDEX "push_deliveries_payment_idx" ON "push_deliveries" ("subscription_id", "payment_id", "transaction_id", "history_id") WHERE "delivered_at" IS NULL;
CREATE INDEX "push_deliveries_delivered_idx" ON "push_deliveries" ("delivered_at") WHERE "delivered_at" IS NOT NULL;
