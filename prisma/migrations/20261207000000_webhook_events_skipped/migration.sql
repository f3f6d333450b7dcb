-- An event that comes due while its publisher has no webhookUrl is skipped: no
-- delivery is attempted, none is recorded as failed, and it is never retried
-- (a URL set later receives the events that happen from then on). The event
-- stays in the publisher's list, with status "skipped".
ALTER TABLE "outbox_events" ADD COLUMN "skipped_at" TIMESTAMPTZ(3);

-- The dispatcher's partial index holds only events still to send.
DROP INDEX "outbox_events_pending_next_attempt_at_idx";
CREATE INDEX "outbox_events_pending_next_attempt_at_idx" ON "outbox_events"("next_attempt_at")
  WHERE "delivered_at" IS NULL AND "failed_at" IS NULL AND "skipped_at" IS NULL;
