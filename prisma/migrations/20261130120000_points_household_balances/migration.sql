-- A household's balances kept on its own row, beside the journal and checked
-- against it by the tests: a confirmation paying with points reads them in
-- the statement that takes the household's lock (FOR UPDATE returns the row as
-- the last holder left it), instead of summing the household's whole history
-- under that lock, a cost that grew with every entry.
ALTER TABLE "points_households"
  ADD COLUMN "available" INTEGER NOT NULL DEFAULT 0,
  ADD COLUMN "pending" INTEGER NOT NULL DEFAULT 0,
  ADD COLUMN "owed" INTEGER NOT NULL DEFAULT 0;

UPDATE "points_households" h SET
  "available" = b.available, "pending" = b.pending, "owed" = b.owed
FROM (
  SELECT split_part(account, ':', 3) AS holder_id,
         COALESCE(-sum(amount) FILTER (WHERE split_part(account, ':', 4) = 'available'), 0)::int AS available,
         COALESCE(-sum(amount) FILTER (WHERE split_part(account, ':', 4) = 'pending'), 0)::int AS pending,
         COALESCE(sum(amount) FILTER (WHERE split_part(account, ':', 4) = 'owed'), 0)::int AS owed
  FROM "ledger_postings" WHERE unit = 'PTS' AND account LIKE 'points:holder:%'
  GROUP BY 1
) b
WHERE b.holder_id = h.holder_id;

-- The database refuses what the domain already never does: a balance below zero.
ALTER TABLE "points_households" ADD CONSTRAINT "points_households_balances_not_negative"
  CHECK ("available" >= 0 AND "pending" >= 0 AND "owed" >= 0);

-- Each posting to a household's account moves its balance in the same
-- transaction. The UPDATE takes the household's row lock, so two transactions
-- can never lose each other's change, whatever locks their code took first.
-- Accounts are points:holder:<id>:available|pending|owed; available and pending
-- are credit balances (minus the postings), owed a debit one.
CREATE FUNCTION "points_household_keep_balances"() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  holder TEXT := split_part(NEW.account, ':', 3);
  kind TEXT := split_part(NEW.account, ':', 4);
  points INTEGER := NEW.amount::integer;
BEGIN
  UPDATE "points_households" SET
    "available" = "available" - CASE WHEN kind = 'available' THEN points ELSE 0 END,
    "pending" = "pending" - CASE WHEN kind = 'pending' THEN points ELSE 0 END,
    "owed" = "owed" + CASE WHEN kind = 'owed' THEN points ELSE 0 END
  WHERE "holder_id" = holder;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'points posted to % for a household that is not registered', NEW.account;
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER "ledger_postings_keep_household_points"
  AFTER INSERT ON "ledger_postings"
  FOR EACH ROW WHEN (NEW.unit = 'PTS' AND NEW.account LIKE 'points:holder:%')
  EXECUTE FUNCTION "points_household_keep_balances"();
