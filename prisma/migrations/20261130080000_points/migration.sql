-- Kiosque Points (API.md v1.1): a coalition loyalty programme per operator, on
-- the journal. Points are a second unit ('PTS') of ledger_postings, in whole
-- points; docs/money.md explains the accounts.

-- The operator's programme: off until the operator turns it on, one point worth 0.01 by default.
ALTER TABLE "operators" ADD COLUMN "points_enabled" BOOLEAN NOT NULL DEFAULT false;
ALTER TABLE "operators" ADD COLUMN "point_value" NUMERIC(10,2) NOT NULL DEFAULT 0.01;
ALTER TABLE "operators" ADD CONSTRAINT "operators_point_value_positive" CHECK ("point_value" > 0);

-- What a publisher funds: points per euro of its sales (0: it awards none).
ALTER TABLE "publishers" ADD COLUMN "points_per_euro" NUMERIC(8,2) NOT NULL DEFAULT 0;
ALTER TABLE "publishers" ADD CONSTRAINT "publishers_points_per_euro_range" CHECK ("points_per_euro" >= 0);

-- Parental control: may this child spend the household's points?
ALTER TABLE "subscribers" ADD COLUMN "points_allowed" BOOLEAN NOT NULL DEFAULT false;

-- A purchase paid partly with points: `amount` is the euro part (what is billed
-- and counts against ceilings), `points_spent` at `point_value` each paid the
-- rest. `points_earned` is what its euro part earned for the household; both
-- valued at the operator's `point_value` at confirmation.
ALTER TABLE "purchases" ADD COLUMN "points_spent" INTEGER NOT NULL DEFAULT 0;
ALTER TABLE "purchases" ADD COLUMN "points_earned" INTEGER NOT NULL DEFAULT 0;
ALTER TABLE "purchases" ADD COLUMN "point_value" NUMERIC(10,2);
ALTER TABLE "purchases" ADD CONSTRAINT "purchases_points_whole" CHECK (
  "points_spent" >= 0 AND "points_earned" >= 0
  AND ("points_spent" = 0 AND "points_earned" = 0 OR "point_value" IS NOT NULL));
-- Paid wholly in points, a purchase bills 0.00 in euros.
ALTER TABLE "purchases" DROP CONSTRAINT "purchases_amount_range";
ALTER TABLE "purchases" ADD CONSTRAINT "purchases_amount_range" CHECK (
  "amount" <= 50.00 AND ("amount" > 0 OR ("amount" = 0 AND "points_spent" > 0)));

-- One row per household in a programme: the row every change to its points
-- locks (after any subscriber, purchase or spending row), so its available
-- balance, read from the journal once the lock is granted, never goes below zero.
CREATE TABLE "points_households" (
    "holder_id" TEXT NOT NULL,
    "operator_id" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "points_households_pkey" PRIMARY KEY ("holder_id")
);
ALTER TABLE "points_households" ADD CONSTRAINT "points_households_holder_id_fkey"
  FOREIGN KEY ("holder_id") REFERENCES "subscribers"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
ALTER TABLE "points_households" ADD CONSTRAINT "points_households_operator_id_fkey"
  FOREIGN KEY ("operator_id") REFERENCES "operators"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- The sweep finds lots due to mature and households whose points may expire by time.
CREATE INDEX "ledger_entries_points_time_idx" ON "ledger_entries"("kind", "created_at")
  WHERE "kind" IN ('points_earn', 'points_mature');

-- Points settle with the publisher's other movements: net includes them.
ALTER TABLE "settlements" ADD COLUMN "points_issued_value" NUMERIC(14,2) NOT NULL DEFAULT 0;
ALTER TABLE "settlements" ADD COLUMN "points_redeemed_value" NUMERIC(14,2) NOT NULL DEFAULT 0;
ALTER TABLE "settlements" DROP CONSTRAINT "settlements_adds_up";
ALTER TABLE "settlements" ADD CONSTRAINT "settlements_adds_up" CHECK (
  "gross" + "points_redeemed_value" = "commission" + "net" + "refunds" + "chargebacks" + "points_issued_value");
