-- The same upsert as before, in PL/pgSQL: a SQL-language function that is not
-- inlined plans its body again on every call, and every confirmation calls it
-- through purchases_keep_spending. PL/pgSQL keeps the plan for the session.
-- Measured with pg_stat_user_functions on a confirmation load (BENCHMARKS.md).
CREATE OR REPLACE FUNCTION "add_subscriber_spending"(subscriber TEXT, at TIMESTAMPTZ, delta NUMERIC)
RETURNS VOID LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO "subscriber_spending" AS s ("subscriber_id", "period_kind", "period_start", "amount")
  VALUES (subscriber, 'week', date_trunc('week', at, 'Europe/Paris'), delta),
         (subscriber, 'month', date_trunc('month', at, 'Europe/Paris'), delta)
  ON CONFLICT ("subscriber_id", "period_kind", "period_start") DO UPDATE SET "amount" = s."amount" + EXCLUDED."amount";
END
$$;
