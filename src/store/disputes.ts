import { PURCHASE_COLUMNS, toPurchase } from './purchases.js';
import { money, type PurchaseRecord, type RefundRecord } from './records.js';
import type { Sql, Statement } from './sql.js';

export type DisputeStatus = 'open' | 'under_review' | 'won' | 'lost';
export type DisputeOpener = 'subscriber' | 'operator';

export interface DisputeRecord {
  id: string;
  purchaseId: string;
  subscriberId: string;
  reason: string;
  status: DisputeStatus;
  openedBy: DisputeOpener;
  respondBy: Date;
  evidence: string | null;
  respondedAt: Date | null;
  closedAt: Date | null;
  createdAt: Date;
}

/** A dispute with what its parties and its resource need: the purchase, whose subscriber it is, its refund. */
export interface DisputeWithParties extends DisputeRecord {
  purchase: PurchaseRecord;
  subscriber: { id: string; operatorId: string; externalRef: string };
  refund: RefundRecord | null;
}

/** Dispute columns are prefixed: the purchase's columns beside them keep their own names. */
const DISPUTE_COLUMNS = `d.id AS "disputeId", d.reason AS "disputeReason", d.status AS "disputeStatus",
  d.opened_by AS "openedBy", d.respond_by AS "respondBy", d.evidence, d.responded_at AS "respondedAt",
  d.closed_at AS "closedAt", d.created_at AS "disputeCreatedAt", d.subscriber_id AS "disputeSubscriberId",
  s.operator_id AS "subscriberOperatorId", s.external_ref AS "subscriberRef",
  r.id AS "refundId", r.amount::text AS "refundAmount", r.reason AS "refundReason",
  r.created_at AS "refundCreatedAt", ${PURCHASE_COLUMNS}`;

const FROM_DISPUTES = `FROM disputes d
    JOIN purchases p ON p.id = d.purchase_id
    JOIN subscribers s ON s.id = d.subscriber_id
    LEFT JOIN refunds r ON r.dispute_id = d.id`;

type DisputeRow = Parameters<typeof toPurchase>[0] & {
  disputeId: string;
  disputeReason: string;
  disputeStatus: DisputeStatus;
  openedBy: DisputeOpener;
  respondBy: Date;
  evidence: string | null;
  respondedAt: Date | null;
  closedAt: Date | null;
  disputeCreatedAt: Date;
  disputeSubscriberId: string;
  subscriberOperatorId: string;
  subscriberRef: string;
  refundId: string | null;
  refundAmount: string | null;
  refundReason: RefundRecord['reason'] | null;
  refundCreatedAt: Date | null;
};

function toDispute(row: DisputeRow): DisputeWithParties {
  const purchase = toPurchase(row);
  return {
    id: row.disputeId,
    purchaseId: purchase.id,
    subscriberId: row.disputeSubscriberId,
    reason: row.disputeReason,
    status: row.disputeStatus,
    openedBy: row.openedBy,
    respondBy: row.respondBy,
    evidence: row.evidence,
    respondedAt: row.respondedAt,
    closedAt: row.closedAt,
    createdAt: row.disputeCreatedAt,
    purchase,
    subscriber: { id: row.disputeSubscriberId, operatorId: row.subscriberOperatorId, externalRef: row.subscriberRef },
    refund:
      row.refundId === null || row.refundAmount === null || row.refundReason === null || row.refundCreatedAt === null
        ? null
        : {
            id: row.refundId,
            purchaseId: purchase.id,
            amount: money(row.refundAmount),
            reason: row.refundReason,
            disputeId: row.disputeId,
            createdAt: row.refundCreatedAt,
          },
  };
}

const FIND_DISPUTE: Statement = {
  name: 'dispute_find',
  text: `SELECT ${DISPUTE_COLUMNS} ${FROM_DISPUTES} WHERE d.id = $1::text`,
};

export async function findDispute(sql: Sql, id: string): Promise<DisputeWithParties | null> {
  const [row] = await sql.rows<DisputeRow>(FIND_DISPUTE, [id]);
  return row ? toDispute(row) : null;
}

const LOCK_DISPUTE: Statement = {
  name: 'dispute_lock',
  text: `SELECT id FROM disputes WHERE id = $1::text FOR UPDATE`,
};

/**
 * The one way to lock a dispute: every transition of one dispute is serialized
 * on its row. Returns it as it is once the lock is granted, read by a second
 * statement: a join in the locking one would return the purchase and refund as
 * they were before the wait. Null when there is no such dispute.
 */
export async function lockDispute(sql: Sql, id: string): Promise<DisputeWithParties | null> {
  const locked = await sql.rows(LOCK_DISPUTE, [id]);
  return locked.length > 0 ? findDispute(sql, id) : null;
}

/** The parties' listings, one statement each so that each keeps a plan on its own index. $1 is the party. */
const LISTINGS = {
  subscriber: 'd.subscriber_id = $1::text',
  operator: 's.operator_id = $1::text',
  publisher: 'p.publisher_id = $1::text',
} as const;

export type DisputeListingParty = keyof typeof LISTINGS;

const LISTING_STATEMENTS = Object.fromEntries(
  Object.entries(LISTINGS).map(([party, where]) => [
    party,
    {
      name: `dispute_list_${party}`,
      text: `SELECT ${DISPUTE_COLUMNS} ${FROM_DISPUTES}
        WHERE ${where} AND ($2::text IS NULL OR d.status = $2::text) AND ($3::text IS NULL OR d.id < $3::text)
        ORDER BY d.id DESC LIMIT $4::int`,
    },
  ]),
) as Record<DisputeListingParty, Statement>;

/** One party's disputes, newest first (ids are time-ordered), optionally of one status, below a cursor. */
export async function partyDisputes(
  sql: Sql,
  party: DisputeListingParty,
  partyId: string,
  query: { status: DisputeStatus | null; before: string | null; take: number },
): Promise<DisputeWithParties[]> {
  const rows = await sql.rows<DisputeRow>(LISTING_STATEMENTS[party], [partyId, query.status, query.before, query.take]);
  return rows.map(toDispute);
}

const INSERT_DISPUTE: Statement = {
  name: 'dispute_insert',
  text: `WITH dispute AS (
      INSERT INTO disputes (id, purchase_id, subscriber_id, reason, status, opened_by, respond_by, created_at)
      VALUES ($1::text, $2::text, $3::text, $4::text, $5::text, $6::text, $7::timestamptz, $8::timestamptz)
    )
    UPDATE purchases SET status = 'disputed' WHERE id = $2::text`,
};

/** Writes a new dispute and marks its purchase disputed, in one statement; the caller holds the purchase's lock. */
export async function insertDispute(sql: Sql, dispute: DisputeRecord): Promise<void> {
  await sql.rows(INSERT_DISPUTE, [
    dispute.id,
    dispute.purchaseId,
    dispute.subscriberId,
    dispute.reason,
    dispute.status,
    dispute.openedBy,
    dispute.respondBy,
    dispute.createdAt,
  ]);
}

const SAVE_DISPUTE: Statement = {
  name: 'dispute_save',
  text: `UPDATE disputes SET status = $2::text, evidence = $3::text, responded_at = $4::timestamptz,
      closed_at = $5::timestamptz
    WHERE id = $1::text`,
};

/** Writes what a transition changes; the caller holds the dispute's lock (lockDispute). */
export async function saveDispute(sql: Sql, dispute: DisputeRecord): Promise<void> {
  await sql.rows(SAVE_DISPUTE, [dispute.id, dispute.status, dispute.evidence, dispute.respondedAt, dispute.closedAt]);
}

const REINSTATE_PURCHASE: Statement = {
  name: 'dispute_reinstate_purchase',
  text: `UPDATE purchases p SET status = 'confirmed' WHERE p.id = $1::text RETURNING ${PURCHASE_COLUMNS}`,
};

/** The disputed purchase confirmed again as the dispute closes; the caller holds the purchase's lock. */
export async function reinstatePurchase(sql: Sql, purchaseId: string): Promise<PurchaseRecord | null> {
  const [row] = await sql.rows<Parameters<typeof toPurchase>[0]>(REINSTATE_PURCHASE, [purchaseId]);
  return row ? toPurchase(row) : null;
}

const OVERDUE: Statement = {
  name: 'dispute_overdue',
  text: `SELECT d.id FROM disputes d JOIN purchases p ON p.id = d.purchase_id
    WHERE d.status = 'open' AND d.respond_by <= $1::timestamptz
      AND ($3::text[] IS NULL OR p.publisher_id = ANY($3::text[]))
    ORDER BY d.respond_by
    LIMIT $2::int`,
};

/** Open disputes past their deadline, earliest first; `publisherIds` restricts them (see SweepScope). */
export async function overdueDisputeIds(
  sql: Sql,
  now: Date,
  limit: number,
  publisherIds: readonly string[] | null,
): Promise<string[]> {
  const rows = await sql.rows<{ id: string }>(OVERDUE, [now, limit, publisherIds ? [...publisherIds] : null]);
  return rows.map((row) => row.id);
}
