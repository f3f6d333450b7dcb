-- v1.1, for integrators and operators.

-- Sandbox operators: their subscribers' purchases are test traffic, kept apart from live money.
ALTER TABLE "operators" ADD COLUMN "sandbox" BOOLEAN NOT NULL DEFAULT false;

-- Operator events (receipts, spend reminders, renewals) are signed webhooks like publishers'.
-- The secret is null for operators created before v1.1 until they register a webhook URL.
ALTER TABLE "operators" ADD COLUMN "webhook_url" TEXT;
ALTER TABLE "operators" ADD COLUMN "webhook_secret" TEXT;

-- A rotated publisher secret keeps signing alongside the new one until it expires.
ALTER TABLE "publishers" ADD COLUMN "previous_webhook_secret" TEXT;
ALTER TABLE "publishers" ADD COLUMN "previous_webhook_secret_expires_at" TIMESTAMPTZ(3);

-- The outbox now serves two kinds of recipient: each event goes to exactly one publisher or one operator.
ALTER TABLE "outbox_events" ALTER COLUMN "publisher_id" DROP NOT NULL;
ALTER TABLE "outbox_events" ADD COLUMN "operator_id" TEXT;
ALTER TABLE "outbox_events" ADD CONSTRAINT "outbox_events_operator_id_fkey" FOREIGN KEY ("operator_id") REFERENCES "operators"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
ALTER TABLE "outbox_events" ADD CONSTRAINT "outbox_events_one_recipient" CHECK (num_nonnulls("publisher_id", "operator_id") = 1);

-- Publishers list their own subscriptions, newest first.
CREATE INDEX "subscriptions_publisher_id_id_idx" ON "subscriptions"("publisher_id", "id");
