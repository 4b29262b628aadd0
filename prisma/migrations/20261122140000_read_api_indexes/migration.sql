-- CreateIndex
CREATE INDEX "withdrawals_projected_at_id_idx" ON "withdrawals"("projected_at", "id");

-- CreateIndex
CREATE INDEX "direct_debits_projected_at_id_idx" ON "direct_debits"("projected_at", "id");
