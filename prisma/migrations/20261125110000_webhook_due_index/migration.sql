-- The webhook dispatcher polls for events still to send whose time has come.
-- Delivered and failed events pile up forever and would otherwise be scanned on
-- every poll; a partial index holds only the pending ones. SQL-only: Prisma
-- cannot express a partial index in schema.prisma.
CREATE INDEX "outbox_events_pending_next_attempt_at_idx" ON "outbox_events"("next_attempt_at") WHERE "delivered_at" IS NULL AND "failed_at" IS NULL;
