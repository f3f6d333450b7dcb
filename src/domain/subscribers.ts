import type { Subscriber } from '../generated/prisma/client.js';
import type { Tx } from '../store/db.js';
import { newId } from '../ids.js';
import { invalidRequest } from './errors.js';

export interface ProvisionInput {
  externalRef: string;
  holderRef: string | null;
  displayName: string | null | undefined;
}

/**
 * Creates or updates one of the operator's subscribers. Households are one
 * level deep: a child's holder must be a holder, and a subscriber with children
 * cannot become a child.
 */
export async function provisionSubscriber(
  tx: Tx,
  operatorId: string,
  input: ProvisionInput,
): Promise<{ subscriber: Subscriber; holderRef: string | null; created: boolean }> {
  let holderId: string | null = null;
  if (input.holderRef !== null) {
    if (input.holderRef === input.externalRef) {
      throw invalidRequest('A subscriber cannot be its own holder', { fields: { holderRef: 'names this subscriber' } });
    }
    const holder = await tx.subscriber.findUnique({
      where: { operatorId_externalRef: { operatorId, externalRef: input.holderRef } },
    });
    if (!holder || holder.holderId !== null) {
      throw invalidRequest('holderRef must name a holder this operator provisioned', { fields: { holderRef: 'unknown holder' } });
    }
    holderId = holder.id;
  }
  // Insert-if-absent then lock: concurrent PUTs of one new subscriber make one row,
  // and the household checks below see a settled state.
  const inserted = await tx.$queryRaw<{ id: string }[]>`
    INSERT INTO subscribers (id, operator_id, external_ref, display_name)
    VALUES (${newId('sub')}, ${operatorId}, ${input.externalRef}, ${input.displayName ?? null})
    ON CONFLICT (operator_id, external_ref) DO NOTHING
    RETURNING id`;
  await tx.$queryRaw`SELECT 1 FROM subscribers WHERE operator_id = ${operatorId} AND external_ref = ${input.externalRef} FOR UPDATE`;
  const existing = await tx.subscriber.findUniqueOrThrow({
    where: { operatorId_externalRef: { operatorId, externalRef: input.externalRef } },
    include: { _count: { select: { children: true } } },
  });
  if (holderId !== null && existing._count.children > 0) {
    throw invalidRequest('A holder with children cannot become a child', { fields: { holderRef: 'subscriber has children' } });
  }
  const leavingHousehold = existing.holderId !== holderId;
  const subscriber = await tx.subscriber.update({
    where: { id: existing.id },
    data: {
      holderId,
      ...(input.displayName !== undefined ? { displayName: input.displayName } : {}),
      // Controls belong to a household; moving out of it resets them.
      ...(leavingHousehold ? { blocked: false, blockedCategories: [], limitWeekly: null, limitMonthly: null } : {}),
      updatedAt: new Date(),
    },
  });
  return { subscriber, holderRef: input.holderRef, created: inserted.length > 0 };
}
