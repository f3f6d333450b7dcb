import type { TestGateway } from './harness.js';

/*
 * Rows tests set up or read straight in the database, where no API does it
 * (a purchase whose ten minutes are over) or where the API would hide what
 * the test checks: written once here instead of in each test file.
 */

/** A purchase's row as stored. */
export function purchaseRow(gw: TestGateway, id: string) {
  return gw.ctx.database.prisma.purchase.findUniqueOrThrow({ where: { id } });
}

/** The status a purchase's row holds (not the one the API reads through its expiry). */
export async function storedPurchaseStatus(gw: TestGateway, id: string): Promise<string> {
  return (await purchaseRow(gw, id)).status;
}

/** Moves a pending purchase's expiry into the past, as if its ten minutes were over. */
export async function expirePurchase(gw: TestGateway, id: string): Promise<void> {
  await gw.ctx.database.prisma.purchase.update({ where: { id }, data: { expiresAt: new Date(Date.now() - 1000) } });
}
