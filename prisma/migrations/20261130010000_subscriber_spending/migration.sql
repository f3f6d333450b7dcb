-- Running spending totals per subscriber, ISO week and calendar month (Europe/Paris):
-- a confirmation reads two rows instead of summing the subscriber's whole month.
CREATE TABLE "subscriber_spending" (
    "subscriber_id" TEXT NOT NULL,
    "period_kind" TEXT NOT NULL,
    "period_start" TIMESTAMPTZ(3) NOT NULL,
    "amount" DECIMAL(14,2) NOT NULL,

    CONSTRAINT "subscriber_spending_pkey" PRIMARY KEY ("subscriber_id","period_kind","period_start"),
    CONSTRAINT "subscriber_spending_period_kind_check" CHECK ("period_kind" IN ('week', 'month'))
);

ALTER TABLE "subscriber_spending" ADD CONSTRAINT "subscriber_spending_subscriber_id_fkey"
  FOREIGN KEY ("subscriber_id") REFERENCES "subscribers"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- What one purchase row counts against its subscriber's ceilings: the rule of
-- src/domain/spending.ts (statuses confirmed, refunded, disputed; amount less
-- refunds; chargebacks do not count), stated once for the trigger and the backfill.
CREATE FUNCTION "purchase_spending"(
  status TEXT, subscriber_id TEXT, confirmed_at TIMESTAMPTZ, amount NUMERIC, refunded NUMERIC)
RETURNS NUMERIC LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE
    WHEN subscriber_id IS NOT NULL AND confirmed_at IS NOT NULL AND status IN ('confirmed', 'refunded', 'disputed')
    THEN amount - refunded ELSE 0 END
$$;

-- Adds a delta to the week and month holding `at`, week first: every writer
-- takes the two rows in the same order, so they cannot deadlock on them.
CREATE FUNCTION "add_subscriber_spending"(subscriber TEXT, at TIMESTAMPTZ, delta NUMERIC)
RETURNS VOID LANGUAGE sql AS $$
  INSERT INTO "subscriber_spending" AS s ("subscriber_id", "period_kind", "period_start", "amount")
  VALUES (subscriber, 'week', date_trunc('week', at, 'Europe/Paris'), delta),
         (subscriber, 'month', date_trunc('month', at, 'Europe/Paris'), delta)
  ON CONFLICT ("subscriber_id", "period_kind", "period_start") DO UPDATE SET "amount" = s."amount" + EXCLUDED."amount"
$$;

CREATE FUNCTION "purchases_keep_spending"() RETURNS TRIGGER LANGUAGE plpgsql AS $$
DECLARE
  before NUMERIC := 0;
  after NUMERIC := purchase_spending(NEW.status, NEW.subscriber_id, NEW.confirmed_at, NEW.amount, NEW.refunded_amount);
BEGIN
  IF TG_OP = 'UPDATE' THEN
    before := purchase_spending(OLD.status, OLD.subscriber_id, OLD.confirmed_at, OLD.amount, OLD.refunded_amount);
    IF before <> 0 AND (OLD.subscriber_id IS DISTINCT FROM NEW.subscriber_id
                        OR OLD.confirmed_at IS DISTINCT FROM NEW.confirmed_at) THEN
      PERFORM add_subscriber_spending(OLD.subscriber_id, OLD.confirmed_at, -before);
      before := 0;
    END IF;
  END IF;
  IF after - before <> 0 THEN
    PERFORM add_subscriber_spending(NEW.subscriber_id, NEW.confirmed_at, after - before);
  END IF;
  RETURN NULL;
END
$$;

CREATE TRIGGER "purchases_keep_spending_on_insert" AFTER INSERT ON "purchases"
  FOR EACH ROW WHEN (NEW.subscriber_id IS NOT NULL AND NEW.confirmed_at IS NOT NULL)
  EXECUTE FUNCTION "purchases_keep_spending"();

-- Billing claims and webhook bookkeeping touch none of these columns and skip the trigger.
CREATE TRIGGER "purchases_keep_spending_on_update"
  AFTER UPDATE OF "status", "subscriber_id", "confirmed_at", "amount", "refunded_amount" ON "purchases"
  FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.subscriber_id IS DISTINCT FROM NEW.subscriber_id
    OR OLD.confirmed_at IS DISTINCT FROM NEW.confirmed_at OR OLD.amount IS DISTINCT FROM NEW.amount
    OR OLD.refunded_amount IS DISTINCT FROM NEW.refunded_amount)
  EXECUTE FUNCTION "purchases_keep_spending"();

INSERT INTO "subscriber_spending" ("subscriber_id", "period_kind", "period_start", "amount")
SELECT "subscriber_id", k.period, date_trunc(k.period, "confirmed_at", 'Europe/Paris'),
       SUM(purchase_spending("status", "subscriber_id", "confirmed_at", "amount", "refunded_amount"))
FROM "purchases" CROSS JOIN (VALUES ('week'), ('month')) AS k(period)
WHERE "subscriber_id" IS NOT NULL AND "confirmed_at" IS NOT NULL AND "status" IN ('confirmed', 'refunded', 'disputed')
GROUP BY 1, 2, 3;
