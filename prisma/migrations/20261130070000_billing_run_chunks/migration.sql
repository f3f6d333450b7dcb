-- A billing run is worked as bounded chunks, each a range of payer ids
-- (COALESCE(subscribers.holder_id, subscribers.id)) billed in one transaction.
-- The first range is open at the bottom and the last at the top (NULL bounds),
-- so a payer that appears after the run was prepared is still covered. A worker
-- leases a pending chunk with SELECT ... FOR UPDATE SKIP LOCKED inside the
-- chunk's transaction: the lease ends when that transaction does, or when
-- PostgreSQL drops a dead worker's connection.
CREATE TABLE "billing_run_chunks" (
    "billing_run_id" TEXT NOT NULL,
    "chunk_no" INTEGER NOT NULL,
    "payer_from" TEXT,
    "payer_to" TEXT,
    "status" TEXT NOT NULL DEFAULT 'pending',
    "invoice_count" INTEGER NOT NULL DEFAULT 0,
    "total" DECIMAL(14,2) NOT NULL DEFAULT 0,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "error" TEXT,
    "finished_at" TIMESTAMPTZ(3),

    CONSTRAINT "billing_run_chunks_pkey" PRIMARY KEY ("billing_run_id", "chunk_no"),
    CONSTRAINT "billing_run_chunks_status_check" CHECK ("status" IN ('pending', 'done'))
);

ALTER TABLE "billing_run_chunks" ADD CONSTRAINT "billing_run_chunks_billing_run_id_fkey"
    FOREIGN KEY ("billing_run_id") REFERENCES "billing_runs"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- What the sweep looks for: chunks still to bill.
CREATE INDEX "billing_run_chunks_pending_idx" ON "billing_run_chunks"("billing_run_id", "chunk_no") WHERE "status" = 'pending';

-- Runs of one operator never interleave: at most one is running at a time. A
-- run left running by the one-transaction design had no chunks and nothing
-- committed; it is queued again and prepared afresh.
UPDATE "billing_runs" SET "status" = 'queued', "started_at" = NULL WHERE "status" = 'running';
CREATE UNIQUE INDEX "billing_runs_one_running_per_operator" ON "billing_runs"("operator_id") WHERE "status" = 'running';

-- A chunk reads the refunds not yet credited, a set that shrinks to nothing
-- once billed. Purchases get no such index on purpose: an index that names
-- invoice_id (even in its WHERE) makes the claim that sets it a non-HOT update
-- writing every index of purchases again; a chunk finds its payers' purchases
-- through purchases(subscriber_id, confirmed_at) instead.
CREATE INDEX "refunds_uncredited_purchase_idx" ON "refunds"("purchase_id") WHERE "invoice_id" IS NULL;
