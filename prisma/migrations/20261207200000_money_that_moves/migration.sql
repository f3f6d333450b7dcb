-- Money that moves (API v1.2): publishers' bank accounts, payout runs paid by
-- one SEPA credit transfer file, and the bank's statements that say what
-- arrived and what left. Money itself still moves only in the journal
-- (ledger_entries / ledger_postings): these tables say who, where and when.

-- A publisher's account for payouts; replaced by PUT /v1/publisher/bank-account.
CREATE TABLE "bank_accounts" (
    "publisher_id" TEXT NOT NULL,
    "iban" TEXT NOT NULL,
    "bic" TEXT,
    "holder_name" TEXT NOT NULL,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "bank_accounts_pkey" PRIMARY KEY ("publisher_id")
);
ALTER TABLE "bank_accounts" ADD CONSTRAINT "bank_accounts_publisher_id_fkey"
  FOREIGN KEY ("publisher_id") REFERENCES "publishers"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- One SEPA file's worth of payouts. The creditor's name and IBAN are frozen on
-- each payout, so the file rendered later is the file that was sent.
CREATE TABLE "payout_runs" (
    "id" TEXT NOT NULL,
    "execution_date" TEXT NOT NULL,
    "minimum" NUMERIC(14,2) NOT NULL,
    "count" INTEGER NOT NULL,
    "total" NUMERIC(14,2) NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "payout_runs_pkey" PRIMARY KEY ("id")
);
CREATE TRIGGER "payout_runs_append_only" BEFORE UPDATE OR DELETE ON "payout_runs"
  FOR EACH ROW EXECUTE FUNCTION "ledger_refuse_change"();

ALTER TABLE "payouts" ADD COLUMN "payout_run_id" TEXT;
ALTER TABLE "payouts" ADD COLUMN "creditor_name" TEXT;
ALTER TABLE "payouts" ADD COLUMN "creditor_iban" TEXT;
ALTER TABLE "payouts" ADD CONSTRAINT "payouts_payout_run_id_fkey"
  FOREIGN KEY ("payout_run_id") REFERENCES "payout_runs"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
CREATE INDEX "payouts_payout_run_id_idx" ON "payouts"("payout_run_id");

-- What the bank said happened to a payout: 'paid' (debited) then perhaps
-- 'returned'. Payouts stay append-only; their status is the latest row here.
CREATE TABLE "payout_transitions" (
    "payout_id" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "bank_statement_id" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "payout_transitions_pkey" PRIMARY KEY ("payout_id", "status"),
    CONSTRAINT "payout_transitions_status_check" CHECK ("status" IN ('paid', 'returned'))
);
ALTER TABLE "payout_transitions" ADD CONSTRAINT "payout_transitions_payout_id_fkey"
  FOREIGN KEY ("payout_id") REFERENCES "payouts"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
CREATE TRIGGER "payout_transitions_append_only" BEFORE UPDATE OR DELETE ON "payout_transitions"
  FOR EACH ROW EXECUTE FUNCTION "ledger_refuse_change"();

-- An imported camt.053 statement, once per Stmt/Id: a second import answers
-- the first one's summary and books nothing.
CREATE TABLE "bank_statements" (
    "id" TEXT NOT NULL,
    "statement_ref" TEXT NOT NULL,
    "summary" JSONB NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "bank_statements_pkey" PRIMARY KEY ("id")
);
CREATE UNIQUE INDEX "bank_statements_statement_ref_key" ON "bank_statements"("statement_ref");
CREATE TRIGGER "bank_statements_append_only" BEFORE UPDATE OR DELETE ON "bank_statements"
  FOR EACH ROW EXECUTE FUNCTION "ledger_refuse_change"();
