-- One row per consent page shown to a subscriber: the denominator of the monthly
-- report's conversion. Append-only, so that a busy publisher's page views never
-- queue behind one counter row.
CREATE TABLE "consent_page_views" (
    "id" BIGSERIAL NOT NULL,
    "operator_id" TEXT NOT NULL,
    "offer_id" TEXT NOT NULL,
    "shown_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "consent_page_views_pkey" PRIMARY KEY ("id")
);

CREATE INDEX "consent_page_views_shown_at_idx" ON "consent_page_views"("shown_at");
