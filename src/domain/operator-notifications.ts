import type { Purchase } from '../generated/prisma/client.js';
import type { Tx } from '../store/db.js';
import { recordEventFor } from './events.js';
import { Decimal } from './money.js';
import { operatorEventsFor, type ConfirmedCharge } from './operator-events.js';
import { spentBy } from './spending.js';

/**
 * Queues the operator's events for a charge just confirmed, in the caller's
 * transaction (so they exist if and only if the charge does). Called once at
 * the end of each confirmation path: a purchase, a subscription's first
 * period, a renewal. An operator with no webhook URL gets nothing queued,
 * which keeps the confirmation path one query shorter for it.
 */
export async function notifyOperatorOfCharge(
  tx: Tx,
  purchase: Purchase,
  publisherName: string,
  now: Date,
  renewal?: ConfirmedCharge['renewal'],
): Promise<void> {
  if (!purchase.subscriberId) return;
  const rows = await tx.$queryRaw<{ operatorId: string; webhookUrl: string | null; externalRef: string }[]>`
    SELECT o.id AS "operatorId", o.webhook_url AS "webhookUrl", s.external_ref AS "externalRef"
    FROM subscribers s JOIN operators o ON o.id = s.operator_id
    WHERE s.id = ${purchase.subscriberId}`;
  const row = rows[0];
  if (!row || row.webhookUrl === null) return;
  // Read after the charge, in the same transaction: the month's spending includes it.
  const { month } = await spentBy(tx, purchase.subscriberId, now);
  const amount = new Decimal(purchase.amount.toString());
  const events = operatorEventsFor({
    subscriberRef: row.externalRef,
    purchaseId: purchase.id,
    publisherName,
    description: purchase.description,
    amount,
    confirmedAt: purchase.confirmedAt ?? now,
    monthSpentBefore: month.minus(amount),
    monthSpentAfter: month,
    ...(renewal ? { renewal } : {}),
  });
  for (const event of events) await recordEventFor(tx, { operatorId: row.operatorId }, event.type, event.data, now);
}
