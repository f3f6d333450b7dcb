import { Prisma, type Subscriber } from '../generated/prisma/client.js';
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
  if (input.holderRef === input.externalRef) {
    throw invalidRequest('A subscriber cannot be its own holder', { fields: { holderRef: 'names this subscriber' } });
  }
  // Insert-if-absent: concurrent PUTs of one new subscriber make one row.
  const inserted = await tx.$queryRaw<{ id: string }[]>`
    INSERT INTO subscribers (id, operator_id, external_ref, display_name)
    VALUES (${newId('sub')}, ${operatorId}, ${input.externalRef}, ${input.displayName ?? null})
    ON CONFLICT (operator_id, external_ref) DO NOTHING
    RETURNING id`;
  // Lock this subscriber and its would-be holder in one statement, in a fixed order:
  // PUTs naming each other cannot deadlock, and each sees the other's committed
  // household, so concurrent PUTs cannot build a household two levels deep.
  const refs = input.holderRef === null ? [input.externalRef] : [input.externalRef, input.holderRef];
  const locked = await tx.$queryRaw<{ id: string; external_ref: string; holder_id: string | null }[]>`
    SELECT id, external_ref, holder_id FROM subscribers
    WHERE operator_id = ${operatorId} AND external_ref IN (${Prisma.join(refs)})
    ORDER BY external_ref
    FOR UPDATE`;
  let holderId: string | null = null;
  if (input.holderRef !== null) {
    const holder = locked.find((row) => row.external_ref === input.holderRef);
    if (!holder || holder.holder_id !== null) {
      throw invalidRequest('holderRef must name a holder this operator provisioned', {
        fields: { holderRef: 'unknown holder' },
      });
    }
    holderId = holder.id;
  }
  const existing = await tx.subscriber.findUniqueOrThrow({
    where: { operatorId_externalRef: { operatorId, externalRef: input.externalRef } },
    include: { _count: { select: { children: true } } },
  });
  if (holderId !== null && existing._count.children > 0) {
    throw invalidRequest('A holder with children cannot become a child', {
      fields: { holderRef: 'subscriber has children' },
    });
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
