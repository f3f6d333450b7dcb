-- Documents the law accepts (API.md v1.2): every invoice and credit note gets a
-- number `<YYYY>-<code>-<n>` from one unbroken sequence per operator and year
-- (Europe/Paris), and each credited refund keeps the VAT it credited, so that
-- the VAT credited for a purchase can be held to what its invoice charged.

-- An operator's code on its documents: fixed at its creation, unique. Two
-- letters of its name for the eye, then eight characters of its random id for
-- uniqueness (ids are Crockford base32, so the code matches [A-Z0-9]{1,10}).
CREATE FUNCTION "operator_document_code"("name" TEXT, "id" TEXT) RETURNS TEXT
  LANGUAGE sql IMMUTABLE AS $$
  SELECT left(regexp_replace(upper("name"), '[^A-Z0-9]', '', 'g'), 2)
      || right(regexp_replace(upper("id"), '[^A-Z0-9]', '', 'g'), 8)
$$;

ALTER TABLE "operators" ADD COLUMN "document_code" TEXT;
UPDATE "operators" SET "document_code" = "operator_document_code"("name", "id");
ALTER TABLE "operators" ALTER COLUMN "document_code" SET NOT NULL;
CREATE UNIQUE INDEX "operators_document_code_key" ON "operators"("document_code");

CREATE FUNCTION "operators_fix_document_code"() RETURNS TRIGGER LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    NEW."document_code" := "operator_document_code"(NEW."name", NEW."id");
  ELSIF NEW."document_code" IS DISTINCT FROM OLD."document_code" THEN
    RAISE EXCEPTION 'operator % keeps its document code %', OLD."id", OLD."document_code";
  END IF;
  RETURN NEW;
END
$$;
CREATE TRIGGER "operators_document_code" BEFORE INSERT OR UPDATE OF "document_code" ON "operators"
  FOR EACH ROW EXECUTE FUNCTION "operators_fix_document_code"();

-- The last number given per operator and year. The transaction that issues
-- documents takes the next numbers by updating this row, which it holds until
-- it commits: a rollback (crash, retry) gives them back, and a concurrent run
-- waits its turn, so numbers never skip or repeat.
CREATE TABLE "document_counters" (
    "operator_id" TEXT NOT NULL,
    "year" INTEGER NOT NULL,
    "last_number" INTEGER NOT NULL,

    CONSTRAINT "document_counters_pkey" PRIMARY KEY ("operator_id", "year"),
    CONSTRAINT "document_counters_last_number" CHECK ("last_number" > 0)
);
ALTER TABLE "document_counters" ADD CONSTRAINT "document_counters_operator_id_fkey"
  FOREIGN KEY ("operator_id") REFERENCES "operators"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

ALTER TABLE "invoices" ADD COLUMN "number" TEXT;

-- Documents issued before numbers: numbered per operator and Paris year in the order they were issued.
WITH numbered AS (
  SELECT i."id", i."operator_id", extract(year FROM i."created_at" AT TIME ZONE 'Europe/Paris')::int AS "year",
         row_number() OVER (
           PARTITION BY i."operator_id", extract(year FROM i."created_at" AT TIME ZONE 'Europe/Paris')
           ORDER BY i."created_at", i."id") AS "n"
  FROM "invoices" i
), counted AS (
  INSERT INTO "document_counters" ("operator_id", "year", "last_number")
  SELECT "operator_id", "year", max("n") FROM numbered GROUP BY "operator_id", "year"
)
UPDATE "invoices" i
SET "number" = x."year"::text || '-' || o."document_code" || '-' || lpad(x."n"::text, 6, '0')
FROM numbered x JOIN "operators" o ON o."id" = x."operator_id"
WHERE i."id" = x."id";

CREATE UNIQUE INDEX "invoices_number_key" ON "invoices"("number");

-- A number, once given, is the document's for ever.
CREATE FUNCTION "invoices_keep_number"() RETURNS TRIGGER LANGUAGE plpgsql AS $$
BEGIN
  IF OLD."number" IS NOT NULL AND NEW."number" IS DISTINCT FROM OLD."number" THEN
    RAISE EXCEPTION 'invoice % keeps its number %', OLD."id", OLD."number";
  END IF;
  RETURN NEW;
END
$$;
CREATE TRIGGER "invoices_keep_number" BEFORE UPDATE OF "number" ON "invoices"
  FOR EACH ROW EXECUTE FUNCTION "invoices_keep_number"();

-- The VAT a refund credited (positive), once it is on a document. NULL for a refund not yet credited, and for
-- one an unpaid outcome absorbed. Refunds credited before this column credited their own share, half-even.
ALTER TABLE "refunds" ADD COLUMN "vat_amount" NUMERIC(14,2);
UPDATE "refunds" r
SET "vat_amount" = (sign(v."raw") * (trunc(abs(v."raw") * 100) + CASE
      WHEN abs(v."raw") * 100 - trunc(abs(v."raw") * 100) > 0.5 THEN 1
      WHEN abs(v."raw") * 100 - trunc(abs(v."raw") * 100) = 0.5 AND mod(trunc(abs(v."raw") * 100), 2) = 1 THEN 1
      ELSE 0 END) / 100)::numeric(14, 2)
FROM (
  SELECT l."refund_ids"[k] AS "refund_id", rr."amount" * l."vat_rate" / (1 + l."vat_rate") AS "raw"
  FROM "invoice_lines" l
  CROSS JOIN LATERAL generate_subscripts(l."refund_ids", 1) AS k
  JOIN "refunds" rr ON rr."id" = l."refund_ids"[k]
  WHERE l."kind" = 'refund'
) v
WHERE r."id" = v."refund_id" AND r."invoice_id" IS NOT NULL;

-- GET /v1/operator/billing-runs: one operator's runs, newest first.
CREATE INDEX "billing_runs_operator_id_id_idx" ON "billing_runs"("operator_id", "id");
