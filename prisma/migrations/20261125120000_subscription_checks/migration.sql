-- Subscription invariants the database holds even if the code forgets them:
-- known plans and statuses, the API.md price tiers, and an active or past-due
-- subscription always has a subscriber, a period and a next attempt.
-- SQL-only: Prisma cannot express CHECK constraints in schema.prisma.
ALTER TABLE "subscriptions" ADD CONSTRAINT "subscriptions_plan_known" CHECK ("plan" IN ('weekly', 'monthly', 'quarterly'));
ALTER TABLE "subscriptions" ADD CONSTRAINT "subscriptions_status_known" CHECK ("status" IN ('pending', 'active', 'past_due', 'canceled', 'declined', 'expired'));
ALTER TABLE "subscriptions" ADD CONSTRAINT "subscriptions_price_tier" CHECK (
    "amount" > 0 AND "amount" <= CASE "plan" WHEN 'weekly' THEN 5.00 ELSE 30.00 END
);
ALTER TABLE "subscriptions" ADD CONSTRAINT "subscriptions_renewing_has_period" CHECK (
    "status" NOT IN ('active', 'past_due')
    OR ("subscriber_id" IS NOT NULL AND "activated_at" IS NOT NULL AND "current_period_end" IS NOT NULL AND "next_attempt_at" IS NOT NULL)
);
