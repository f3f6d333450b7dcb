-- The expiry sweep looks for pending purchases past expires_at. Pending rows
-- are few and short-lived, so a partial index stays small. status is in its
-- predicate, so an update that changes only status (a refund, a dispute) is no
-- longer a HOT update; confirmation already changed indexed columns and the
-- billing claim, the hot path, does not touch status.
CREATE INDEX "purchases_pending_expiry_idx" ON "purchases" ("expires_at") WHERE "status" = 'pending';

-- The purge deletes idempotency keys older than their retention, oldest first.
CREATE INDEX "idempotency_keys_created_at_idx" ON "idempotency_keys" ("created_at");
