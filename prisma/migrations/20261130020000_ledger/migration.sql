-- Money after billing (v1.1): VAT by product, credit notes, partial outcomes,
-- frozen settlements, payouts, and the append-only double-entry journal that
-- every figure is derived from. docs/money.md explains the accounts.

-- VAT by product: the publisher's rate (by category), overridable per purchase
-- and per subscription. A purchase with no rate of its own takes its
-- subscription's, then its publisher's, when it is billed.
ALTER TABLE "publishers" ADD COLUMN "vat_rate" NUMERIC(5,4) NOT NULL DEFAULT 0.20;
UPDATE "publishers" SET "vat_rate" = 0.021 WHERE "category" = 'press';
ALTER TABLE "purchases" ADD COLUMN "vat_rate" NUMERIC(5,4);
ALTER TABLE "subscriptions" ADD COLUMN "vat_rate" NUMERIC(5,4);

-- What the journal still counts as billed for a purchase (amount less the
-- refunds and chargebacks posted so far): the base of its commission and the
-- weight of a partial chargeback. Set by the billing run that claims it.
ALTER TABLE "purchases" ADD COLUMN "billed_remaining" NUMERIC(12,2);

-- Credit notes are invoices of type credit_note naming the invoice they correct;
-- one per corrected invoice per run, one invoice per payer per run.
ALTER TABLE "invoices" ADD COLUMN "type" TEXT NOT NULL DEFAULT 'invoice';
ALTER TABLE "invoices" ADD COLUMN "corrects_invoice_id" TEXT;
ALTER TABLE "invoices" ADD COLUMN "collected" NUMERIC(14,2);
ALTER TABLE "invoices" ADD CONSTRAINT "invoices_corrects_invoice_id_fkey"
  FOREIGN KEY ("corrects_invoice_id") REFERENCES "invoices"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
ALTER TABLE "invoices" ADD CONSTRAINT "invoices_type_check" CHECK (
  ("type" = 'invoice' AND "corrects_invoice_id" IS NULL AND "total" >= 0)
  OR ("type" = 'credit_note' AND "corrects_invoice_id" IS NOT NULL AND "total" <= 0));
DROP INDEX "invoices_billing_run_id_subscriber_id_key";
CREATE INDEX "invoices_billing_run_id_subscriber_id_idx" ON "invoices"("billing_run_id", "subscriber_id");
CREATE UNIQUE INDEX "invoices_one_per_payer_per_run" ON "invoices"("billing_run_id", "subscriber_id") WHERE "type" = 'invoice';
CREATE UNIQUE INDEX "invoices_one_credit_note_per_invoice_per_run" ON "invoices"("billing_run_id", "corrects_invoice_id")
  WHERE "type" = 'credit_note';

ALTER TABLE "invoice_lines" ADD COLUMN "vat_rate" NUMERIC(5,4) NOT NULL DEFAULT 0.20;
ALTER TABLE "invoice_lines" ALTER COLUMN "vat_rate" DROP DEFAULT;

-- The journal. Postings are signed: positive is a debit, negative a credit.
-- The account's unit ('EUR' today, loyalty points next) is on each posting, and
-- an entry balances per unit.
CREATE TABLE "ledger_entries" (
    "id" BIGSERIAL NOT NULL,
    "key" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "operator_id" TEXT,
    "publisher_id" TEXT,
    "billing_run_id" TEXT,
    "invoice_id" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "ledger_entries_pkey" PRIMARY KEY ("id")
);
CREATE UNIQUE INDEX "ledger_entries_key_key" ON "ledger_entries"("key");

CREATE TABLE "ledger_postings" (
    "id" BIGSERIAL NOT NULL,
    "entry_id" BIGINT NOT NULL,
    "account" TEXT COLLATE "C" NOT NULL,
    "unit" TEXT NOT NULL DEFAULT 'EUR',
    "amount" NUMERIC(14,2) NOT NULL,
    CONSTRAINT "ledger_postings_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "ledger_postings_amount_check" CHECK ("amount" <> 0)
);
CREATE INDEX "ledger_postings_entry_id_idx" ON "ledger_postings"("entry_id");
CREATE INDEX "ledger_postings_account_unit_idx" ON "ledger_postings"("account", "unit");
ALTER TABLE "ledger_postings" ADD CONSTRAINT "ledger_postings_entry_id_fkey"
  FOREIGN KEY ("entry_id") REFERENCES "ledger_entries"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- Append-only: what was written is never rewritten, corrections are new entries.
CREATE FUNCTION "ledger_refuse_change"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'the journal is append-only: % on % refused', TG_OP, TG_TABLE_NAME USING ERRCODE = 'restrict_violation';
END $$;
CREATE TRIGGER "ledger_entries_append_only" BEFORE UPDATE OR DELETE ON "ledger_entries"
  FOR EACH ROW EXECUTE FUNCTION "ledger_refuse_change"();
CREATE TRIGGER "ledger_entries_no_truncate" BEFORE TRUNCATE ON "ledger_entries"
  FOR EACH STATEMENT EXECUTE FUNCTION "ledger_refuse_change"();
CREATE TRIGGER "ledger_postings_append_only" BEFORE UPDATE OR DELETE ON "ledger_postings"
  FOR EACH ROW EXECUTE FUNCTION "ledger_refuse_change"();
CREATE TRIGGER "ledger_postings_no_truncate" BEFORE TRUNCATE ON "ledger_postings"
  FOR EACH STATEMENT EXECUTE FUNCTION "ledger_refuse_change"();

-- Every entry touched by an INSERT must balance, per unit, once the statement
-- is done: an entry's postings are written by one statement. Checked once per
-- statement over its transition table, so a billing run writing a hundred
-- thousand entries pays for one set-based check, not one query per row.
CREATE FUNCTION "ledger_check_balanced"() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  bad RECORD;
BEGIN
  SELECT p.entry_id, p.unit, sum(p.amount) AS total INTO bad
  FROM ledger_postings p
  WHERE p.entry_id IN (SELECT DISTINCT entry_id FROM new_postings)
  GROUP BY p.entry_id, p.unit
  HAVING sum(p.amount) <> 0
  LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'unbalanced journal entry % (%): postings sum to %', bad.entry_id, bad.unit, bad.total
      USING ERRCODE = 'check_violation';
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER "ledger_postings_balanced" AFTER INSERT ON "ledger_postings"
  REFERENCING NEW TABLE AS new_postings
  FOR EACH STATEMENT EXECUTE FUNCTION "ledger_check_balanced"();

-- An entry with no posting at all would be a movement that moved nothing; an
-- entry must get its postings in the transaction that creates it.
CREATE FUNCTION "ledger_check_entry_posted"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM ledger_postings WHERE entry_id = NEW.id) THEN
    RAISE EXCEPTION 'journal entry % (%) has no postings', NEW.id, NEW.key USING ERRCODE = 'check_violation';
  END IF;
  RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER "ledger_entries_posted" AFTER INSERT ON "ledger_entries"
  DEFERRABLE INITIALLY DEFERRED
  FOR EACH ROW EXECUTE FUNCTION "ledger_check_entry_posted"();

-- A run's settlement, frozen when the run is done: one row per publisher.
CREATE TABLE "settlements" (
    "billing_run_id" TEXT NOT NULL,
    "publisher_id" TEXT NOT NULL,
    "operator_id" TEXT NOT NULL,
    "through" TIMESTAMPTZ(3) NOT NULL,
    "gross" NUMERIC(14,2) NOT NULL,
    "commission" NUMERIC(14,2) NOT NULL,
    "refunds" NUMERIC(14,2) NOT NULL,
    "chargebacks" NUMERIC(14,2) NOT NULL,
    "net" NUMERIC(14,2) NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "settlements_pkey" PRIMARY KEY ("billing_run_id", "publisher_id"),
    CONSTRAINT "settlements_adds_up" CHECK ("gross" = "commission" + "net" + "refunds" + "chargebacks")
);
CREATE INDEX "settlements_publisher_id_billing_run_id_idx" ON "settlements"("publisher_id", "billing_run_id");
ALTER TABLE "settlements" ADD CONSTRAINT "settlements_billing_run_id_fkey"
  FOREIGN KEY ("billing_run_id") REFERENCES "billing_runs"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
ALTER TABLE "settlements" ADD CONSTRAINT "settlements_publisher_id_fkey"
  FOREIGN KEY ("publisher_id") REFERENCES "publishers"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
CREATE TRIGGER "settlements_frozen" BEFORE UPDATE OR DELETE ON "settlements"
  FOR EACH ROW EXECUTE FUNCTION "ledger_refuse_change"();

CREATE TABLE "payouts" (
    "id" TEXT NOT NULL,
    "publisher_id" TEXT NOT NULL,
    "amount" NUMERIC(14,2) NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "payouts_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "payouts_amount_check" CHECK ("amount" > 0)
);
CREATE INDEX "payouts_publisher_id_id_idx" ON "payouts"("publisher_id", "id");
ALTER TABLE "payouts" ADD CONSTRAINT "payouts_publisher_id_fkey"
  FOREIGN KEY ("publisher_id") REFERENCES "publishers"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
CREATE TRIGGER "payouts_append_only" BEFORE UPDATE OR DELETE ON "payouts"
  FOR EACH ROW EXECUTE FUNCTION "ledger_refuse_change"();
