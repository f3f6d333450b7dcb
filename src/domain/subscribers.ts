import { newId } from '../ids.js';
import type { Database } from '../store/database.js';
import type { Sql } from '../store/sql.js';
import {
  findSubscriberByRef,
  findSubscriberWithOperator,
  countChildren,
  insertSubscriberIfAbsent,
  lockSubscribersByRef,
  saveHousehold,
  type SubscriberRecord,
  type SubscriberWithOperator,
} from '../store/subscribers.js';
import { invalidRequest, notFound } from './errors.js';

export type Subscriber = SubscriberRecord;
export type { SubscriberRef } from '../store/confirmation.js';

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
  database: Database,
  operatorId: string,
  input: ProvisionInput,
  now = new Date(),
): Promise<Provisioned> {
  if (input.holderRef === input.externalRef) {
    throw invalidRequest('A subscriber cannot be its own holder', { fields: { holderRef: 'names this subscriber' } });
  }
  return database.transaction((sql) => provisionIn(sql, operatorId, input, now));
}

interface Provisioned {
  subscriber: Subscriber;
  holderRef: string | null;
  created: boolean;
}

async function provisionIn(sql: Sql, operatorId: string, input: ProvisionInput, now: Date): Promise<Provisioned> {
  const created = await insertSubscriberIfAbsent(sql, {
    id: newId('sub'),
    operatorId,
    externalRef: input.externalRef,
    displayName: input.displayName ?? null,
  });
  // Lock this subscriber and its would-be holder together, in a fixed order: PUTs naming
  // each other cannot deadlock, and each sees the other's committed household, so
  // concurrent PUTs cannot build a household two levels deep.
  const refs = input.holderRef === null ? [input.externalRef] : [input.externalRef, input.holderRef];
  const locked = await lockSubscribersByRef(sql, operatorId, refs);
  let holderId: string | null = null;
  if (input.holderRef !== null) {
    const holder = locked.find((row) => row.externalRef === input.holderRef);
    if (!holder || holder.holderId !== null) {
      throw invalidRequest('holderRef must name a holder this operator provisioned', {
        fields: { holderRef: 'unknown holder' },
      });
    }
    holderId = holder.id;
  }
  const existing = locked.find((row) => row.externalRef === input.externalRef);
  if (!existing) throw new Error(`Subscriber ${operatorId}/${input.externalRef} was inserted but cannot be locked`);
  if (holderId !== null && (await countChildren(sql, existing.id)) > 0) {
    throw invalidRequest('A holder with children cannot become a child', {
      fields: { holderRef: 'subscriber has children' },
    });
  }
  const subscriber = await saveHousehold(
    sql,
    existing.id,
    {
      holderId,
      displayName: input.displayName,
      // Controls belong to a household; moving out of it resets them.
      resetControls: existing.holderId !== holderId,
    },
    now,
  );
  if (!subscriber) throw new Error(`Subscriber ${existing.id} is locked but cannot be updated`);
  return { subscriber, holderRef: input.holderRef, created };
}

/** One of the operator's own subscribers by its reference; 404 for any other. */
export async function operatorSubscriber(sql: Sql, operatorId: string, externalRef: string): Promise<Subscriber> {
  const subscriber = await findSubscriberByRef(sql, operatorId, externalRef);
  if (!subscriber) throw notFound('Subscriber');
  return subscriber;
}

/** The subscriber a signed page session names, with its operator's limits and brand; null once it is gone. */
export function sessionSubscriber(sql: Sql, subscriberId: string): Promise<SubscriberWithOperator | null> {
  return findSubscriberWithOperator(sql, subscriberId);
}
