-- The dispute rate counts a publisher's purchases confirmed in the last 30
-- days each time a dispute is opened and each time the admin reads it; without
-- this index that is a scan of all the publisher's purchases.
-- CreateIndex
CREATE INDEX "purchases_publisher_id_confirmed_at_idx" ON "purchases"("publisher_id", "confirmed_at");
