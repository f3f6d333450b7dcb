/**
 * The chart of accounts (docs/money.md), written once with its SQL forms.
 * Every account is in one unit: EUR, or PTS for Kiosque Points. Postings are
 * signed: positive debits, negative credits. Account names are colon-separated
 * segments; the SQL forms below build and read them the same way in set-based
 * statements, so no statement spells a prefix or a segment number of its own.
 */

export const EUR = 'EUR';
export const POINTS = 'PTS';

export const UNSETTLED_KINDS = [
  'sales',
  'commission',
  'refunds',
  'chargebacks',
  'points_issued',
  'points_redeemed',
] as const;
export type UnsettledKind = (typeof UNSETTLED_KINDS)[number];

export const accounts = {
  /** What the operator's subscribers owe on Kiosque's invoices, less credit notes, collections and chargebacks. */
  receivable: (operatorId: string) => `operator:${operatorId}:receivable`,
  /** What the operator collected from its subscribers and owes Kiosque. */
  collected: (operatorId: string) => `operator:${operatorId}:collected`,
  /** A publisher's movements with one operator's subscribers since that operator's last settlement. */
  unsettled: (operatorId: string, publisherId: string, kind: UnsettledKind) =>
    `unsettled:${operatorId}:${publisherId}:${kind}`,
  /** What Kiosque owes the publisher and may pay out now: its `available` (docs/money.md). */
  payable: (publisherId: string) => `publisher:${publisherId}:payable`,
  /** Settled sales on invoices whose outcome the operator has not reported yet. */
  pending: (publisherId: string) => `publisher:${publisherId}:pending`,
  /** What an outcome charged back, held until the operator's next settlement books the chargeback. */
  held: (publisherId: string, operatorId: string) => `publisher:${publisherId}:held:${operatorId}`,
  /** What sandbox operators' runs settled for the publisher: test money, never paid out, never in its balance. */
  sandboxPayable: (publisherId: string) => `publisher:${publisherId}:sandbox_payable`,
  commission: 'kiosque:commission',
  /** Kiosque's bank account, as its statements show it: moves only with an imported statement. */
  bank: 'kiosque:bank',
  /** Payouts sent to the bank and not yet on a statement. */
  payoutsInTransit: 'kiosque:payouts_in_transit',
} as const;

/** Kiosque Points (docs/points.md): whole points in POINTS, and their euro value in EUR. */
export const pointsAccounts = {
  /** Points earned by the household, not yet spendable (credit side: owed to the household). */
  pending: (holderId: string) => `points:holder:${holderId}:pending`,
  /** Points the household may spend. */
  available: (holderId: string) => `points:holder:${holderId}:available`,
  /** Points clawed back that the household did not have: repaid first from points as they become available. */
  owed: (holderId: string) => `points:holder:${holderId}:owed`,
  /** The operator's programme: every point it issued (debit), net of those taken back. */
  issued: (operatorId: string) => `points:operator:${operatorId}:issued`,
  /** Points spent, returned to the programme. */
  redeemed: (operatorId: string) => `points:operator:${operatorId}:redeemed`,
  /** Points that expired unspent. */
  expired: (operatorId: string) => `points:operator:${operatorId}:expired`,
  /** In euros: the value of the points outstanding in the programme, funded by the publishers that issued them. */
  liability: (operatorId: string) => `points:operator:${operatorId}:liability`,
  /** In euros: the value of points that expired, released from the liability. */
  breakage: (operatorId: string) => `points:operator:${operatorId}:breakage`,
  /** In euros: the value of points a publisher's sales issued (it owes it), settled by the operator's next run. */
  unsettledIssued: (operatorId: string, publisherId: string) =>
    accounts.unsettled(operatorId, publisherId, 'points_issued'),
  /** In euros: the value of points spent on a publisher (it is owed it), settled by the operator's next run. */
  unsettledRedeemed: (operatorId: string, publisherId: string) =>
    accounts.unsettled(operatorId, publisherId, 'points_redeemed'),
} as const;

/** Range bounds of one operator's unsettled accounts (':' + 1 is ';'), for an index range scan in C collation. */
export function unsettledRange(operatorId: string): { from: string; to: string } {
  return { from: `unsettled:${operatorId}:`, to: `unsettled:${operatorId};` };
}

/**
 * The publisher and kind of one of the operator's unsettled accounts, read
 * back by the one layout that wrote it (accounts.unsettled); null for any
 * other account.
 */
export function unsettledParts(
  operatorId: string,
  account: string,
): { publisherId: string; kind: UnsettledKind } | null {
  const { from } = unsettledRange(operatorId);
  const cut = account.lastIndexOf(':');
  if (!account.startsWith(from) || cut < from.length) return null;
  const publisherId = account.slice(from.length, cut);
  const kind = UNSETTLED_KINDS.find((k) => accounts.unsettled(operatorId, publisherId, k) === account);
  return kind ? { publisherId, kind } : null;
}

/** Liabilities and revenue read as credit − debit; assets and expenses as debit − credit. */
export function normalSide(account: string): 'debit' | 'credit' {
  if (account.startsWith('publisher:') || account === accounts.commission || account === accounts.payoutsInTransit)
    return 'credit';
  if (account.startsWith('unsettled:') && (account.endsWith(':sales') || account.endsWith(':points_redeemed')))
    return 'credit';
  if (account.startsWith('points:holder:')) return account.endsWith(':owed') ? 'debit' : 'credit';
  if (account.startsWith('points:operator:')) return account.endsWith(':issued') ? 'debit' : 'credit';
  return 'debit';
}

/**
 * The same accounts as SQL expressions, for set-based statements: each
 * argument is an SQL expression (a column such as `p.account`), never a value.
 */
export const accountSql = {
  unsettled: (operatorId: string, publisherId: string, kind: string) =>
    `'unsettled:' || ${operatorId} || ':' || ${publisherId} || ':' || ${kind}`,
  receivable: (operatorId: string) => `'operator:' || ${operatorId} || ':receivable'`,
  collected: (operatorId: string) => `'operator:' || ${operatorId} || ':collected'`,
  payable: (publisherId: string) => `'publisher:' || ${publisherId} || ':payable'`,
  sandboxPayable: (publisherId: string) => `'publisher:' || ${publisherId} || ':sandbox_payable'`,
  pending: (publisherId: string) => `'publisher:' || ${publisherId} || ':pending'`,
  held: (publisherId: string, operatorId: string) => `'publisher:' || ${publisherId} || ':held:' || ${operatorId}`,
  /** The publisher segment of an `unsettled:<op>:<pub>:<kind>` account. */
  unsettledPublisher: (account: string) => `split_part(${account}, ':', 3)`,
  /** The kind segment of an `unsettled:<op>:<pub>:<kind>` account. */
  unsettledKind: (account: string) => `split_part(${account}, ':', 4)`,
  /** The holder segment of a `points:holder:<holder>:<side>` account. */
  pointsHolder: (account: string) => `split_part(${account}, ':', 3)`,
  /** A LIKE pattern matching every household's account on one side. */
  pointsHolderPattern: (side: 'pending' | 'available' | 'owed') => `'points:holder:%:${side}'`,
} as const;
