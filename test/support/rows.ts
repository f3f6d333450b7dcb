import { createBillingRun } from '../../src/domain/billing.js';
import { periodBoundary } from '../../src/domain/plan-periods.js';
import type { TestGateway } from './harness.js';

/*
 * Rows tests put in a state no API puts them in (a purchase whose ten minutes
 * are over, a period already ended, a chargeback from the bank), or read where
 * the API would hide what the test checks (a refused request left nothing
 * behind): named once here for what they mean instead of written as queries
 * in each test file.
 */

const prisma = (gw: TestGateway) => gw.ctx.database.prisma;

/** A purchase's row as stored. */
export function purchaseRow(gw: TestGateway, id: string) {
  return prisma(gw).purchase.findUniqueOrThrow({ where: { id } });
}

/** The status a purchase's row holds (not the one the API reads through its expiry). */
export async function storedPurchaseStatus(gw: TestGateway, id: string): Promise<string> {
  return (await purchaseRow(gw, id)).status;
}

/** Moves a pending purchase's expiry into the past, as if its ten minutes were over. */
export async function expirePurchase(gw: TestGateway, id: string): Promise<void> {
  await prisma(gw).purchase.update({ where: { id }, data: { expiresAt: new Date(Date.now() - 1000) } });
}

/** How many publishers bear this name: 0 when a refused creation left nothing behind. */
export function publishersNamed(gw: TestGateway, name: string): Promise<number> {
  return prisma(gw).publisher.count({ where: { name } });
}

/** How many operators bear this name: 0 when a refused creation left nothing behind. */
export function operatorsNamed(gw: TestGateway, name: string): Promise<number> {
  return prisma(gw).operator.count({ where: { name } });
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

/** A billing run opened now for the operator, as POST /v1/operator/billing-runs opens it, without its job. */
export async function openBillingRun(gw: TestGateway, operatorId: string): Promise<string> {
  return (await gw.ctx.database.transaction((sql) => createBillingRun(sql, operatorId, new Date()))).id;
}

/** A billing run's status as stored. */
export async function billingRunStatus(gw: TestGateway, id: string): Promise<string> {
  return (await prisma(gw).billingRun.findUniqueOrThrow({ where: { id } })).status;
}

/** A billing run's chunks as stored. */
export function billingRunChunks(gw: TestGateway, billingRunId: string) {
  return prisma(gw).billingRunChunk.findMany({ where: { billingRunId }, orderBy: { chunkNo: 'asc' } });
}

/** How many documents a billing run wrote. */
export function documentCount(gw: TestGateway, billingRunId: string): Promise<number> {
  return prisma(gw).invoice.count({ where: { billingRunId } });
}

/**
 * The database refuses every invoice of this operator, as a broken constraint
 * would, until the returned function is called. `atCommit`: the refusal is a
 * deferred check, which fires only when the transaction commits.
 */
export async function refuseInvoicesOf(
  gw: TestGateway,
  operatorId: string,
  { atCommit = false } = {},
): Promise<() => Promise<void>> {
  const trigger = `fault_${operatorId.toLowerCase().replace(/[^a-z0-9]/g, '_')}`;
  await prisma(gw).$executeRawUnsafe(`
    CREATE FUNCTION ${trigger}() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN RAISE EXCEPTION '${trigger} refuses this invoice' USING ERRCODE = 'check_violation'; END $$`);
  await prisma(gw).$executeRawUnsafe(
    atCommit
      ? `CREATE CONSTRAINT TRIGGER ${trigger} AFTER INSERT ON invoices DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
         WHEN (NEW.operator_id = '${operatorId}') EXECUTE FUNCTION ${trigger}()`
      : `CREATE TRIGGER ${trigger} BEFORE INSERT ON invoices FOR EACH ROW
         WHEN (NEW.operator_id = '${operatorId}') EXECUTE FUNCTION ${trigger}()`,
  );
  return async () => {
    await prisma(gw).$executeRawUnsafe(`DROP TRIGGER ${trigger} ON invoices`);
    await prisma(gw).$executeRawUnsafe(`DROP FUNCTION ${trigger}()`);
  };
}

/** How many billing runs an operator has: unchanged when a refused request stored none. */
export function billingRunCount(gw: TestGateway, operatorId: string): Promise<number> {
  return prisma(gw).billingRun.count({ where: { operatorId } });
}

/** A journal entry, found by its key, with its postings. */
export function ledgerEntry(gw: TestGateway, key: string) {
  return prisma(gw).ledgerEntry.findUniqueOrThrow({ where: { key }, include: { postings: true } });
}

/** How many remittance entries the journal holds for a billing run: one however often its statement came. */
export function remittanceCount(gw: TestGateway, billingRunId: string): Promise<number> {
  return prisma(gw).ledgerEntry.count({ where: { kind: 'remittance', billingRunId } });
}

/** How many bank statements are stored: unchanged when a refused import stored none. */
export function bankStatementCount(gw: TestGateway): Promise<number> {
  return prisma(gw).bankStatement.count();
}

/** How many payout runs are stored: unchanged when a refused request made none. */
export function payoutRunCount(gw: TestGateway): Promise<number> {
  return prisma(gw).payoutRun.count();
}

/** A publisher's bank account as stored (its IBAN in full), or null when none is. */
export function storedBankAccount(gw: TestGateway, publisherId: string) {
  return prisma(gw).bankAccount.findUnique({ where: { publisherId } });
}

/** Purchases' rows as stored, in id order. */
export function purchaseRows(gw: TestGateway, ids: readonly string[]) {
  return prisma(gw).purchase.findMany({ where: { id: { in: [...ids] } }, orderBy: { id: 'asc' } });
}

/** A subscriber's row as stored, found by its operator and externalRef. */
export function subscriberRow(gw: TestGateway, operatorId: string, externalRef: string) {
  return prisma(gw).subscriber.findUniqueOrThrow({ where: { operatorId_externalRef: { operatorId, externalRef } } });
}

/** What the holder blocked for a subscriber: the whole account, or some categories, as the operator's portal records it. */
export async function setSubscriberBlocks(
  gw: TestGateway,
  operatorId: string,
  externalRef: string,
  blocks: { blocked: boolean; blockedCategories?: string[] },
): Promise<void> {
  await prisma(gw).subscriber.update({
    where: { operatorId_externalRef: { operatorId, externalRef } },
    data: blocks,
  });
}

/** The outbox events of this type about one object (its payload's data.id), oldest first. */
export function eventsAbout(gw: TestGateway, type: string, objectId: string) {
  return prisma(gw).outboxEvent.findMany({
    where: { type, payload: { path: ['data', 'id'], equals: objectId } },
    orderBy: { createdAt: 'asc' },
  });
}

/** An operator's per-purchase limit changed behind the gateway's back, as between a page and its click. */
export async function setOperatorPerPurchaseLimit(gw: TestGateway, operatorId: string, limit: string): Promise<void> {
  await prisma(gw).operator.update({ where: { id: operatorId }, data: { limitPerPurchase: limit } });
}

/** Moves a purchase's confirmation `days` days into the past, as if it had been confirmed then. */
export async function confirmedDaysAgo(gw: TestGateway, purchaseId: string, days: number): Promise<void> {
  await prisma(gw).purchase.update({
    where: { id: purchaseId },
    data: { confirmedAt: new Date(Date.now() - days * 24 * 60 * 60 * 1000) },
  });
}

/** Moves an open dispute's respondBy into the past, as if the publisher's 7 days were over. */
export async function passRespondBy(gw: TestGateway, disputeId: string): Promise<void> {
  await prisma(gw).dispute.update({ where: { id: disputeId }, data: { respondBy: new Date(Date.now() - 1000) } });
}

/** A dispute's row as stored. */
export function disputeRow(gw: TestGateway, id: string) {
  return prisma(gw).dispute.findUniqueOrThrow({ where: { id } });
}

/** How many disputes a purchase has. */
export function disputeCount(gw: TestGateway, purchaseId: string): Promise<number> {
  return prisma(gw).dispute.count({ where: { purchaseId } });
}

/** A publisher's row as stored. */
export function publisherRow(gw: TestGateway, id: string) {
  return prisma(gw).publisher.findUniqueOrThrow({ where: { id } });
}

/** The events queued for an operator's own webhook, in the order they were queued. */
export function operatorEvents(gw: TestGateway, operatorId: string) {
  return prisma(gw).outboxEvent.findMany({ where: { operatorId }, orderBy: { id: 'asc' } });
}

/** An operator's row as stored. */
export function operatorRow(gw: TestGateway, id: string) {
  return prisma(gw).operator.findUniqueOrThrow({ where: { id } });
}

/** Takes an operator's webhook secret away, as operators registered before v1.1 have none. */
export async function dropOperatorWebhookSecret(gw: TestGateway, id: string): Promise<void> {
  await prisma(gw).operator.update({ where: { id }, data: { webhookSecret: null } });
}

/** Moves a pending subscription offer's expiry into the past, as if its time to be accepted were over. */
export async function expireSubscriptionOffer(gw: TestGateway, id: string): Promise<void> {
  await prisma(gw).subscription.update({ where: { id }, data: { expiresAt: new Date(Date.now() - 1000) } });
}

/**
 * Moves an active weekly subscription and its first charge one period back, as
 * if it had been accepted a week ago: its period ended a minute ago and it is
 * due. Returns the end of that period, the start of the one to charge.
 */
export async function makeSubscriptionDue(gw: TestGateway, id: string): Promise<Date> {
  const anchor = periodBoundary(new Date(Date.now() - 60_000), 'weekly', -1);
  const end = periodBoundary(anchor, 'weekly', 1);
  await prisma(gw).purchase.updateMany({
    where: { subscriptionId: id },
    data: { subscriptionPeriodStart: anchor },
  });
  await prisma(gw).subscription.update({
    where: { id },
    data: { activatedAt: anchor, currentPeriodStart: anchor, currentPeriodEnd: end, nextAttemptAt: end },
  });
  return end;
}

/** A pending purchase as if it had been offered at `at`: created then, and its ten minutes over since. */
export async function backdatePurchase(gw: TestGateway, id: string, at: Date): Promise<void> {
  await prisma(gw).purchase.update({
    where: { id },
    data: { createdAt: at, expiresAt: new Date(at.getTime() + 600_000) },
  });
}

/** Records on a purchase's row that the bank charged `amount` back, as a chargeback report would. */
export async function recordChargeback(gw: TestGateway, id: string, amount: string): Promise<void> {
  await prisma(gw).purchase.update({ where: { id }, data: { chargedBackAmount: amount } });
}

/** A subscription's row as stored. */
export function subscriptionRow(gw: TestGateway, id: string) {
  return prisma(gw).subscription.findUniqueOrThrow({ where: { id } });
}

/** The status a subscription's row holds. */
export async function storedSubscriptionStatus(gw: TestGateway, id: string): Promise<string> {
  return (await subscriptionRow(gw, id)).status;
}

/** The dispute opened on a purchase, as stored. */
export function disputeOfPurchase(gw: TestGateway, purchaseId: string) {
  return prisma(gw).dispute.findFirstOrThrow({ where: { purchaseId } });
}

/** An outbox event's row: when it was delivered, failed, or is next due. */
export function outboxEventRow(gw: TestGateway, id: string) {
  return prisma(gw).outboxEvent.findUniqueOrThrow({ where: { id } });
}

/** The purchases charged for a subscription, one per period, oldest period first. */
export function subscriptionCharges(gw: TestGateway, subscriptionId: string) {
  return prisma(gw).purchase.findMany({
    where: { subscriptionId },
    orderBy: { subscriptionPeriodStart: 'asc' },
  });
}

/** The events recorded in a publisher's outbox (of one type, if given), in the order recorded. */
export function publisherEvents(gw: TestGateway, publisherId: string, type?: string) {
  return prisma(gw).outboxEvent.findMany({
    where: { publisherId, ...(type ? { type } : {}) },
    orderBy: { id: 'asc' },
  });
}

/** How many idempotency keys are stored under `key` (in one scope, if given): 0 when a refused request kept none. */
export function idempotencyKeyCount(gw: TestGateway, key: string, scope?: string): Promise<number> {
  return prisma(gw).idempotencyKey.count({ where: { key, ...(scope ? { scope } : {}) } });
}
