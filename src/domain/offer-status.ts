/** A pending purchase or subscription past its expiry reads as expired, whether or not a sweeper has written it. */
export function purchaseStatus(purchase: { status: string; expiresAt: Date }, now: Date = new Date()): string {
  return purchase.status === 'pending' && purchase.expiresAt <= now ? 'expired' : purchase.status;
}
