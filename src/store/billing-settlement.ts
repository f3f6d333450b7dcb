import Decimal from 'decimal.js';
import {
  accounts,
  EUR,
  UNSETTLED_KINDS,
  unsettledParts,
  unsettledRange,
  type UnsettledKind,
} from '../shared/accounts.js';
import type { Client, RunHead } from './billing-session.js';

/**
 * A run's settlement (docs/money.md): per publisher, what its unsettled
 * accounts with the operator hold when the run closes. Kiosque Points settle
 * with the rest (docs/money.md): `points_issued` (debit: what it owes for points
 * its sales earned) and `points_redeemed` (credit: what it is owed for points
 * spent on it), so that
 * gross + pointsRedeemedValue = commission + net + refunds + chargebacks + pointsIssuedValue.
 */

type Balances = Record<UnsettledKind, Decimal>;

/** Each publisher's unsettled balances with the operator, read from the journal's range for it. */
async function unsettledBalances(client: Client, operatorId: string): Promise<Map<string, Balances>> {
  const { from, to } = unsettledRange(operatorId);
  const { rows } = await client.query<{ account: string; amount: string }>(
    `SELECT account, sum(amount)::text AS amount FROM ledger_postings
     WHERE account >= $1::text AND account < $2::text AND unit = $3::text GROUP BY account`,
    [from, to, EUR],
  );
  const byPublisher = new Map<string, Balances>();
  for (const row of rows) {
    const parts = unsettledParts(operatorId, row.account);
    if (!parts) throw new Error(`${row.account} is in ${operatorId}'s unsettled range but is no unsettled account`);
    let balances = byPublisher.get(parts.publisherId);
    if (!balances) {
      balances = Object.fromEntries(UNSETTLED_KINDS.map((k) => [k, new Decimal(0)])) as Balances;
      byPublisher.set(parts.publisherId, balances);
    }
    balances[parts.kind] = new Decimal(row.amount);
  }
  return byPublisher;
}

/**
 * Freezes the run's settlement: for each publisher, what its unsettled
 * accounts with this operator hold now (this run's documents, and every
 * refund, chargeback or lost dispute posted since the operator's last run)
 * becomes a settlement row, and one entry per publisher closes those accounts
 * into what Kiosque owes it. The figures are the journal's, so they add up.
 */
export async function settleRun(client: Client, run: RunHead, now: Date): Promise<void> {
  const balances = [...(await unsettledBalances(client, run.operatorId))]
    .filter(([, b]) => UNSETTLED_KINDS.some((k) => !b[k].isZero()))
    .sort(([a], [b]) => (a < b ? -1 : 1));
  const publisherIds = balances.map(([id]) => id);
  // Payouts hold the publisher's row lock while they read its balance; a settlement (whose net may be negative) waits for
  // them. NO KEY: other operators' chunks hold the row FOR KEY SHARE (their lines' foreign key) and need not wait.
  await client.query('SELECT 1 FROM publishers WHERE id = ANY($1::text[]) ORDER BY id FOR NO KEY UPDATE', [
    publisherIds,
  ]);
  const column = (kind: UnsettledKind, sign: 1 | -1) => balances.map(([, b]) => b[kind].times(sign).toFixed(2));
  const { rows: settled } = await client.query<{ publisher_id: string; net: string }>(
    `INSERT INTO settlements (billing_run_id, publisher_id, operator_id, through, gross, commission, refunds, chargebacks,
                              points_issued_value, points_redeemed_value, net, created_at)
     SELECT $1::text, x.publisher_id, $2::text, $3::timestamptz, x.gross, x.commission, x.refunds, x.chargebacks,
            x.points_issued, x.points_redeemed,
            x.gross - x.commission - x.refunds - x.chargebacks + x.points_redeemed - x.points_issued, $4::timestamptz
     FROM unnest($5::text[], $6::numeric[], $7::numeric[], $8::numeric[], $9::numeric[], $10::numeric[], $11::numeric[])
       AS x(publisher_id, gross, commission, refunds, chargebacks, points_issued, points_redeemed)
     RETURNING publisher_id, net::text AS net`,
    [
      run.id,
      run.operatorId,
      run.through,
      now,
      publisherIds,
      column('sales', -1),
      column('commission', 1),
      column('refunds', 1),
      column('chargebacks', 1),
      column('points_issued', 1),
      column('points_redeemed', -1),
    ],
  );
  const { rows: operator } = await client.query<{ sandbox: boolean }>('SELECT sandbox FROM operators WHERE id = $1', [
    run.operatorId,
  ]);
  // A sandbox run settles into accounts.sandboxPayable, which no balance or payout reads.
  const payable = operator[0]?.sandbox ? accounts.sandboxPayable : accounts.payable;
  const net = new Map(settled.map((r) => [r.publisher_id, new Decimal(r.net)]));
  const postings: { publisherId: string; account: string; amount: Decimal }[] = [];
  for (const [publisherId, b] of balances) {
    // Closing each unsettled account posts the opposite of its balance; the net goes to what Kiosque owes.
    for (const kind of UNSETTLED_KINDS)
      postings.push({
        publisherId,
        account: accounts.unsettled(run.operatorId, publisherId, kind),
        amount: b[kind].neg(),
      });
    postings.push({
      publisherId,
      account: payable(publisherId),
      amount: (net.get(publisherId) ?? new Decimal(0)).neg(),
    });
  }
  const moving = postings.filter((p) => !p.amount.isZero());
  await client.query(
    `WITH e AS (
       INSERT INTO ledger_entries (key, kind, operator_id, publisher_id, billing_run_id, created_at)
       SELECT 'settlement:' || $1::text || ':' || publisher_id, 'settlement', $2::text, publisher_id, $1::text,
              $3::timestamptz
       FROM settlements WHERE billing_run_id = $1::text
       RETURNING id, publisher_id
     )
     INSERT INTO ledger_postings (entry_id, account, unit, amount)
     SELECT e.id, p.account, $4::text, p.amount
     FROM unnest($5::text[], $6::text[], $7::numeric[]) AS p(publisher_id, account, amount)
     JOIN e ON e.publisher_id = p.publisher_id`,
    [
      run.id,
      run.operatorId,
      now,
      EUR,
      moving.map((p) => p.publisherId),
      moving.map((p) => p.account),
      moving.map((p) => p.amount.toFixed(2)),
    ],
  );
}
