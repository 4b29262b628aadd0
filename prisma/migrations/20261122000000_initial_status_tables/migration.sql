-- CreateEnum
CREATE TYPE "payment_status" AS ENUM ('NEW', 'PROCESSING', 'CONFIRMED', 'CANCELLED');

-- CreateEnum
CREATE TYPE "payment_kind" AS ENUM ('WITHDRAWAL', 'DIRECT_DEBIT');

-- CreateTable
CREATE TABLE "webhook_events" (
    "id" UUID NOT NULL,
    "type" TEXT NOT NULL,
    "webhook_id" UUID NOT NULL,
    "created_at" TIMESTAMPTZ(6) NOT NULL,
    "received_at" TIMESTAMPTZ(6) NOT NULL,
    "event" JSONB NOT NULL,
    "outcome" TEXT NOT NULL,
    "processed_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "webhook_events_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "withdrawals" (
    "id" UUID NOT NULL,
    "user_id" UUID NOT NULL,
    "account_group_id" UUID NOT NULL,
    "reference_account_id" UUID NOT NULL,
    "amount" DECIMAL(11,2) NOT NULL,
    "currency" TEXT NOT NULL,
    "remittance_information" TEXT,
    "purpose_code" TEXT,
    "status" "payment_status" NOT NULL,
    "created_at" TIMESTAMPTZ(6) NOT NULL,
    "updated_at" TIMESTAMPTZ(6),
    "status_event_id" UUID NOT NULL,
    "status_event_created_at" TIMESTAMPTZ(6) NOT NULL,
    "last_event_id" UUID NOT NULL,
    "last_event_created_at" TIMESTAMPTZ(6) NOT NULL,
    "projected_at" TIMESTAMPTZ(6) NOT NULL,

    CONSTRAINT "withdrawals_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "direct_debits" (
    "id" UUID NOT NULL,
    "user_id" UUID NOT NULL,
    "account_group_id" UUID NOT NULL,
    "mandate_id" UUID NOT NULL,
    "cash_amount" DECIMAL(11,2) NOT NULL,
    "currency" TEXT NOT NULL,
    "remittance_information" TEXT,
    "purpose_code" TEXT,
    "status" "payment_status" NOT NULL,
    "created_at" TIMESTAMPTZ(6) NOT NULL,
    "updated_at" TIMESTAMPTZ(6),
    "status_event_id" UUID NOT NULL,
    "status_event_created_at" TIMESTAMPTZ(6) NOT NULL,
    "last_event_id" UUID NOT NULL,
    "last_event_created_at" TIMESTAMPTZ(6) NOT NULL,
    "projected_at" TIMESTAMPTZ(6) NOT NULL,

    CONSTRAINT "direct_debits_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "payment_status_history" (
    "id" BIGSERIAL NOT NULL,
    "payment_kind" "payment_kind" NOT NULL,
    "payment_id" UUID NOT NULL,
    "event_id" UUID NOT NULL,
    "event_type" TEXT NOT NULL,
    "event_created_at" TIMESTAMPTZ(6) NOT NULL,
    "event_status" "payment_status" NOT NULL,
    "previous_status" "payment_status",
    "status" "payment_status" NOT NULL,
    "status_changed" BOOLEAN NOT NULL,
    "recorded_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "payment_status_history_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "quarantined_payloads" (
    "id" BIGSERIAL NOT NULL,
    "content_sha256" TEXT NOT NULL,
    "reason" TEXT NOT NULL,
    "event_id" TEXT,
    "event_type" TEXT,
    "content" BYTEA NOT NULL,
    "request_id" TEXT NOT NULL,
    "received_at" TIMESTAMPTZ(6) NOT NULL,
    "quarantined_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "quarantined_payloads_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "webhook_events_created_at_idx" ON "webhook_events"("created_at");

-- CreateIndex
CREATE INDEX "withdrawals_user_id_idx" ON "withdrawals"("user_id");

-- CreateIndex
CREATE INDEX "withdrawals_account_group_id_idx" ON "withdrawals"("account_group_id");

-- CreateIndex
CREATE INDEX "withdrawals_status_idx" ON "withdrawals"("status");

-- CreateIndex
CREATE INDEX "direct_debits_user_id_idx" ON "direct_debits"("user_id");

-- CreateIndex
CREATE INDEX "direct_debits_account_group_id_idx" ON "direct_debits"("account_group_id");

-- CreateIndex
CREATE INDEX "direct_debits_status_idx" ON "direct_debits"("status");

-- CreateIndex
CREATE UNIQUE INDEX "payment_status_history_event_id_key" ON "payment_status_history"("event_id");

-- CreateIndex
CREATE INDEX "payment_status_history_payment_kind_payment_id_event_created_idx" ON "payment_status_history"("payment_kind", "payment_id", "event_created_at");

-- CreateIndex
CREATE UNIQUE INDEX "quarantined_payloads_content_sha256_key" ON "quarantined_payloads"("content_sha256");

-- CreateIndex
CREATE INDEX "quarantined_payloads_received_at_idx" ON "quarantined_payloads"("received_at");
