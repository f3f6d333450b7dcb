import type { TestGateway } from './harness.js';

/*
 * Rows the a-to-o test files set up or read straight in the database, where no
 * API does it or where the API would hide what the test checks: named once
 * here for what they mean instead of written as queries in each file.
 * (test/support/fixtures.ts holds the purchase rows every file shares.)
 */

const prisma = (gw: TestGateway) => gw.ctx.database.prisma;

/** How many publishers bear this name: 0 when a refused creation left nothing behind. */
export function publishersNamed(gw: TestGateway, name: string): Promise<number> {
  return prisma(gw).publisher.count({ where: { name } });
}

/** How many purchases bear this description: 0 when a refused creation left nothing behind. */
export function purchasesDescribed(gw: TestGateway, description: string): Promise<number> {
  return prisma(gw).purchase.count({ where: { description } });
}

/** How many refunds a purchase has. */
export function refundCount(gw: TestGateway, purchaseId: string): Promise<number> {
  return prisma(gw).refund.count({ where: { purchaseId } });
}

/** The operators that have a subscriber with this externalRef (none when provisioning was refused). */
export async function operatorsWithSubscriber(gw: TestGateway, externalRef: string): Promise<string[]> {
  const rows = await prisma(gw).subscriber.findMany({ where: { externalRef }, select: { operatorId: true } });
  return rows.map((r) => r.operatorId);
}

/** An operator's or publisher's whole row as JSON text: what a leaked secret would be found in. */
export async function storedRowText(gw: TestGateway, table: 'operators' | 'publishers', id: string): Promise<string> {
  const [row] = await prisma(gw).$queryRawUnsafe<{ row: string }[]>(
    `SELECT row_to_json(t)::text AS row FROM ${table} t WHERE id = $1`,
    id,
  );
  if (!row) throw new Error(`no ${table} row ${id}`);
  return row.row;
}
