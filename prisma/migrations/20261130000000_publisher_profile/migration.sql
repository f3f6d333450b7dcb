-- v1.1: consent pages show the publisher's legal name and support contact, and
-- publishers edit them themselves (PATCH /v1/publisher).
ALTER TABLE "publishers" ADD COLUMN "legal_name" TEXT;
ALTER TABLE "publishers" ADD COLUMN "support_url" TEXT;
