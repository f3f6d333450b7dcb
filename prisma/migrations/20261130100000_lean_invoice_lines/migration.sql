-- A billing run writes one invoice line per purchase it claims, and each line
-- paid for three foreign-key checks (publisher, purchase, refund), each a query
-- per row at the end of the statement, and two index entries nobody reads.
-- A line is written only by the claim of its purchase (or refund), in the same
-- statement and from the row it claims (src/store/billing-runs.ts), so those
-- checks could never fail. What stays enforced by the database:
-- - one charge line per purchase (invoice_lines_one_charge_per_purchase) and one
--   line per refund (the partial unique index below);
-- - the line's invoice (its foreign key: Prisma reads an invoice's lines through
--   it, and it keeps an invoice with lines from being deleted);
-- - lines are written once: no UPDATE;
-- - purchases and refunds on a line cannot be deleted (nothing deletes them).
ALTER TABLE "invoice_lines" DROP CONSTRAINT "invoice_lines_publisher_id_fkey";
ALTER TABLE "invoice_lines" DROP CONSTRAINT "invoice_lines_purchase_id_fkey";
ALTER TABLE "invoice_lines" DROP CONSTRAINT "invoice_lines_refund_id_fkey";

-- Charge lines by purchase are found through invoice_lines_one_charge_per_purchase, refund lines by refund.
DROP INDEX "invoice_lines_purchase_id_idx";

-- Charge lines (refund_id NULL) were entries of this index too, for nothing.
DROP INDEX "invoice_lines_refund_id_key";
CREATE UNIQUE INDEX "invoice_lines_one_line_per_refund" ON "invoice_lines"("refund_id") WHERE "refund_id" IS NOT NULL;

CREATE FUNCTION "invoice_lines_refuse_change"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'invoice lines are written once: % refused', TG_OP USING ERRCODE = 'restrict_violation';
END $$;

CREATE TRIGGER "invoice_lines_written_once"
  BEFORE UPDATE ON "invoice_lines"
  FOR EACH STATEMENT EXECUTE FUNCTION "invoice_lines_refuse_change"();

CREATE FUNCTION "invoice_lines_keep_sources"() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  bad TEXT;
BEGIN
  IF TG_TABLE_NAME = 'purchases' THEN
    SELECT o.id INTO bad FROM old_rows o WHERE EXISTS (
      SELECT 1 FROM invoice_lines l WHERE l.purchase_id = o.id AND l.refund_id IS NULL) LIMIT 1;
  ELSE
    SELECT o.id INTO bad FROM old_rows o WHERE EXISTS (SELECT 1 FROM invoice_lines l WHERE l.refund_id = o.id) LIMIT 1;
  END IF;
  IF FOUND THEN
    RAISE EXCEPTION '% % is on an invoice line and cannot be deleted', TG_TABLE_NAME, bad
      USING ERRCODE = 'foreign_key_violation';
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER "purchases_on_lines_stay"
  AFTER DELETE ON "purchases" REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION "invoice_lines_keep_sources"();
CREATE TRIGGER "refunds_on_lines_stay"
  AFTER DELETE ON "refunds" REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION "invoice_lines_keep_sources"();
