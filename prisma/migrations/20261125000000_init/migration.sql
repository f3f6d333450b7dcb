-- CreateTable
CREATE TABLE "operators" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "brand" TEXT NOT NULL,
    "api_key_hash" TEXT NOT NULL,
    "assertion_secret" TEXT NOT NULL,
    "limit_per_purchase" DECIMAL(12,2) NOT NULL,
    "limit_weekly" DECIMAL(12,2) NOT NULL,
    "limit_monthly" DECIMAL(12,2) NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "operators_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "publishers" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "category" TEXT NOT NULL,
    "webhook_url" TEXT,
    "webhook_secret" TEXT NOT NULL,
    "api_key_hash" TEXT NOT NULL,
    "rate_isp" DECIMAL(5,4) NOT NULL,
    "rate_sms" DECIMAL(5,4) NOT NULL,
    "rate_voice" DECIMAL(5,4) NOT NULL,
    "suspended_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "publishers_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "subscribers" (
    "id" TEXT NOT NULL,
    "operator_id" TEXT NOT NULL,
    "external_ref" TEXT NOT NULL,
    "display_name" TEXT,
    "holder_id" TEXT,
    "blocked" BOOLEAN NOT NULL DEFAULT false,
    "blocked_categories" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "limit_weekly" DECIMAL(12,2),
    "limit_monthly" DECIMAL(12,2),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "subscribers_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "purchases" (
    "id" TEXT NOT NULL,
    "publisher_id" TEXT NOT NULL,
    "subscriber_id" TEXT,
    "subscription_id" TEXT,
    "subscription_period_start" TIMESTAMPTZ(3),
    "kind" TEXT NOT NULL,
    "credits" INTEGER,
    "amount" DECIMAL(12,2) NOT NULL,
    "currency" TEXT NOT NULL,
    "description" TEXT NOT NULL,
    "channel" TEXT NOT NULL,
    "return_url" TEXT,
    "status" TEXT NOT NULL,
    "decline_code" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,
    "confirmed_at" TIMESTAMPTZ(3),
    "commission_rate" DECIMAL(5,4),
    "commission_amount" DECIMAL(12,2),
    "refunded_amount" DECIMAL(12,2) NOT NULL DEFAULT 0,
    "charged_back_amount" DECIMAL(12,2) NOT NULL DEFAULT 0,
    "invoice_id" TEXT,
    "consent_ip" TEXT,
    "consent_user_agent" TEXT,
    "consent_page_version" TEXT,
    "consent_assertion_id" TEXT,

    CONSTRAINT "purchases_pkey" PRIMARY KEY ("id"),
    -- Money invariants the database holds even if the code forgets them.
    CONSTRAINT "purchases_amount_range" CHECK ("amount" > 0 AND "amount" <= 50.00),
    CONSTRAINT "purchases_refund_bounded" CHECK ("refunded_amount" >= 0 AND "charged_back_amount" >= 0 AND "refunded_amount" + "charged_back_amount" <= "amount"),
    CONSTRAINT "purchases_status_known" CHECK ("status" IN ('pending', 'confirmed', 'declined', 'expired', 'refunded', 'disputed'))
);

-- CreateTable
CREATE TABLE "refunds" (
    "id" TEXT NOT NULL,
    "purchase_id" TEXT NOT NULL,
    "amount" DECIMAL(12,2) NOT NULL,
    "reason" TEXT NOT NULL,
    "dispute_id" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "invoice_id" TEXT,

    CONSTRAINT "refunds_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "refunds_amount_positive" CHECK ("amount" > 0)
);

-- CreateTable
CREATE TABLE "idempotency_keys" (
    "scope" TEXT NOT NULL,
    "key" TEXT NOT NULL,
    "request_hash" TEXT NOT NULL,
    "response_status" INTEGER NOT NULL,
    "response_body" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "idempotency_keys_pkey" PRIMARY KEY ("scope","key")
);

-- CreateTable
CREATE TABLE "subscriptions" (
    "id" TEXT NOT NULL,
    "publisher_id" TEXT NOT NULL,
    "subscriber_id" TEXT,
    "plan" TEXT NOT NULL,
    "amount" DECIMAL(12,2) NOT NULL,
    "currency" TEXT NOT NULL,
    "description" TEXT NOT NULL,
    "channel" TEXT NOT NULL,
    "return_url" TEXT,
    "status" TEXT NOT NULL,
    "decline_code" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,
    "activated_at" TIMESTAMPTZ(3),
    "current_period_start" TIMESTAMPTZ(3),
    "current_period_end" TIMESTAMPTZ(3),
    "renewal_attempts" INTEGER NOT NULL DEFAULT 0,
    "next_attempt_at" TIMESTAMPTZ(3),
    "canceled_at" TIMESTAMPTZ(3),

    CONSTRAINT "subscriptions_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "disputes" (
    "id" TEXT NOT NULL,
    "purchase_id" TEXT NOT NULL,
    "subscriber_id" TEXT NOT NULL,
    "reason" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "opened_by" TEXT NOT NULL,
    "respond_by" TIMESTAMPTZ(3) NOT NULL,
    "evidence" TEXT,
    "responded_at" TIMESTAMPTZ(3),
    "closed_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "disputes_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "billing_runs" (
    "id" TEXT NOT NULL,
    "operator_id" TEXT NOT NULL,
    "through" TIMESTAMPTZ(3) NOT NULL,
    "status" TEXT NOT NULL,
    "invoice_count" INTEGER NOT NULL DEFAULT 0,
    "total" DECIMAL(14,2) NOT NULL DEFAULT 0,
    "error" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "started_at" TIMESTAMPTZ(3),
    "finished_at" TIMESTAMPTZ(3),

    CONSTRAINT "billing_runs_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "invoices" (
    "id" TEXT NOT NULL,
    "billing_run_id" TEXT NOT NULL,
    "operator_id" TEXT NOT NULL,
    "subscriber_id" TEXT NOT NULL,
    "total" DECIMAL(14,2) NOT NULL DEFAULT 0,
    "vat_amount" DECIMAL(14,2) NOT NULL DEFAULT 0,
    "status" TEXT NOT NULL,
    "outcome_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "invoices_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "invoice_lines" (
    "id" BIGSERIAL NOT NULL,
    "invoice_id" TEXT NOT NULL,
    "publisher_id" TEXT NOT NULL,
    "purchase_id" TEXT NOT NULL,
    "refund_id" TEXT,
    "description" TEXT NOT NULL,
    "amount" DECIMAL(12,2) NOT NULL,
    "vat_amount" DECIMAL(12,2) NOT NULL,

    CONSTRAINT "invoice_lines_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "outbox_events" (
    "id" TEXT NOT NULL,
    "publisher_id" TEXT NOT NULL,
    "type" TEXT NOT NULL,
    "payload" JSONB NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "delivered_at" TIMESTAMPTZ(3),
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "next_attempt_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "failed_at" TIMESTAMPTZ(3),

    CONSTRAINT "outbox_events_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "webhook_attempts" (
    "id" BIGSERIAL NOT NULL,
    "event_id" TEXT NOT NULL,
    "attempted_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "status_code" INTEGER,
    "error" TEXT,
    "duration_ms" INTEGER NOT NULL,

    CONSTRAINT "webhook_attempts_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "operators_api_key_hash_key" ON "operators"("api_key_hash");
CREATE UNIQUE INDEX "publishers_api_key_hash_key" ON "publishers"("api_key_hash");
CREATE INDEX "subscribers_holder_id_idx" ON "subscribers"("holder_id");
CREATE UNIQUE INDEX "subscribers_operator_id_external_ref_key" ON "subscribers"("operator_id", "external_ref");
CREATE INDEX "purchases_subscriber_id_confirmed_at_idx" ON "purchases"("subscriber_id", "confirmed_at");
CREATE INDEX "purchases_publisher_id_id_idx" ON "purchases"("publisher_id", "id");
CREATE INDEX "purchases_invoice_id_idx" ON "purchases"("invoice_id");
CREATE UNIQUE INDEX "purchases_subscription_id_subscription_period_start_key" ON "purchases"("subscription_id", "subscription_period_start");
CREATE UNIQUE INDEX "refunds_dispute_id_key" ON "refunds"("dispute_id");
CREATE INDEX "refunds_purchase_id_idx" ON "refunds"("purchase_id");
CREATE INDEX "refunds_invoice_id_idx" ON "refunds"("invoice_id");
CREATE INDEX "subscriptions_subscriber_id_id_idx" ON "subscriptions"("subscriber_id", "id");
CREATE INDEX "subscriptions_status_next_attempt_at_idx" ON "subscriptions"("status", "next_attempt_at");
CREATE INDEX "disputes_purchase_id_idx" ON "disputes"("purchase_id");
CREATE INDEX "disputes_status_respond_by_idx" ON "disputes"("status", "respond_by");
CREATE INDEX "billing_runs_status_idx" ON "billing_runs"("status");
CREATE UNIQUE INDEX "invoices_billing_run_id_subscriber_id_key" ON "invoices"("billing_run_id", "subscriber_id");
CREATE UNIQUE INDEX "invoice_lines_refund_id_key" ON "invoice_lines"("refund_id");
CREATE INDEX "invoice_lines_invoice_id_id_idx" ON "invoice_lines"("invoice_id", "id");
CREATE INDEX "invoice_lines_purchase_id_idx" ON "invoice_lines"("purchase_id");
CREATE INDEX "outbox_events_delivered_at_next_attempt_at_idx" ON "outbox_events"("delivered_at", "next_attempt_at");
CREATE INDEX "webhook_attempts_event_id_idx" ON "webhook_attempts"("event_id");

-- The billing run's claim on a purchase is the invoice_id column, but a second
-- guard costs nothing: one charge line per purchase, whatever the code does.
CREATE UNIQUE INDEX "invoice_lines_one_charge_per_purchase" ON "invoice_lines"("purchase_id") WHERE "refund_id" IS NULL;
-- At most one open or contested dispute per purchase.
CREATE UNIQUE INDEX "disputes_one_open_per_purchase" ON "disputes"("purchase_id") WHERE "status" IN ('open', 'under_review');

-- AddForeignKey
ALTER TABLE "subscribers" ADD CONSTRAINT "subscribers_operator_id_fkey" FOREIGN KEY ("operator_id") REFERENCES "operators"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
ALTER TABLE "subscribers" ADD CONSTRAINT "subscribers_holder_id_fkey" FOREIGN KEY ("holder_id") REFERENCES "subscribers"("id") ON DELETE SET NULL ON UPDATE CASCADE;
ALTER TABLE "purchases" ADD CONSTRAINT "purchases_publisher_id_fkey" FOREIGN KEY ("publisher_id") REFERENCES "publishers"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
ALTER TABLE "purchases" ADD CONSTRAINT "purchases_subscriber_id_fkey" FOREIGN KEY ("subscriber_id") REFERENCES "subscribers"("id") ON DELETE SET NULL ON UPDATE CASCADE;
ALTER TABLE "purchases" ADD CONSTRAINT "purchases_subscription_id_fkey" FOREIGN KEY ("subscription_id") REFERENCES "subscriptions"("id") ON DELETE SET NULL ON UPDATE CASCADE;
ALTER TABLE "purchases" ADD CONSTRAINT "purchases_invoice_id_fkey" FOREIGN KEY ("invoice_id") REFERENCES "invoices"("id") ON DELETE SET NULL ON UPDATE CASCADE;
ALTER TABLE "refunds" ADD CONSTRAINT "refunds_purchase_id_fkey" FOREIGN KEY ("purchase_id") REFERENCES "purchases"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
ALTER TABLE "refunds" ADD CONSTRAINT "refunds_dispute_id_fkey" FOREIGN KEY ("dispute_id") REFERENCES "disputes"("id") ON DELETE SET NULL ON UPDATE CASCADE;
ALTER TABLE "refunds" ADD CONSTRAINT "refunds_invoice_id_fkey" FOREIGN KEY ("invoice_id") REFERENCES "invoices"("id") ON DELETE SET NULL ON UPDATE CASCADE;
ALTER TABLE "subscriptions" ADD CONSTRAINT "subscriptions_publisher_id_fkey" FOREIGN KEY ("publisher_id") REFERENCES "publishers"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
ALTER TABLE "subscriptions" ADD CONSTRAINT "subscriptions_subscriber_id_fkey" FOREIGN KEY ("subscriber_id") REFERENCES "subscribers"("id") ON DELETE SET NULL ON UPDATE CASCADE;
ALTER TABLE "disputes" ADD CONSTRAINT "disputes_purchase_id_fkey" FOREIGN KEY ("purchase_id") REFERENCES "purchases"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
ALTER TABLE "disputes" ADD CONSTRAINT "disputes_subscriber_id_fkey" FOREIGN KEY ("subscriber_id") REFERENCES "subscribers"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
ALTER TABLE "billing_runs" ADD CONSTRAINT "billing_runs_operator_id_fkey" FOREIGN KEY ("operator_id") REFERENCES "operators"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
ALTER TABLE "invoices" ADD CONSTRAINT "invoices_billing_run_id_fkey" FOREIGN KEY ("billing_run_id") REFERENCES "billing_runs"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
ALTER TABLE "invoices" ADD CONSTRAINT "invoices_operator_id_fkey" FOREIGN KEY ("operator_id") REFERENCES "operators"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
ALTER TABLE "invoices" ADD CONSTRAINT "invoices_subscriber_id_fkey" FOREIGN KEY ("subscriber_id") REFERENCES "subscribers"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
ALTER TABLE "invoice_lines" ADD CONSTRAINT "invoice_lines_invoice_id_fkey" FOREIGN KEY ("invoice_id") REFERENCES "invoices"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
ALTER TABLE "invoice_lines" ADD CONSTRAINT "invoice_lines_publisher_id_fkey" FOREIGN KEY ("publisher_id") REFERENCES "publishers"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
ALTER TABLE "invoice_lines" ADD CONSTRAINT "invoice_lines_purchase_id_fkey" FOREIGN KEY ("purchase_id") REFERENCES "purchases"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
ALTER TABLE "invoice_lines" ADD CONSTRAINT "invoice_lines_refund_id_fkey" FOREIGN KEY ("refund_id") REFERENCES "refunds"("id") ON DELETE SET NULL ON UPDATE CASCADE;
ALTER TABLE "outbox_events" ADD CONSTRAINT "outbox_events_publisher_id_fkey" FOREIGN KEY ("publisher_id") REFERENCES "publishers"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
ALTER TABLE "webhook_attempts" ADD CONSTRAINT "webhook_attempts_event_id_fkey" FOREIGN KEY ("event_id") REFERENCES "outbox_events"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
