import type { Connection } from '../../src/store/database.js';
import type { HouseholdPoints } from '../../src/store/points.js';
import type { Sql } from '../../src/store/sql.js';
import Decimal from 'decimal.js';
import { EUR, POINTS, pointsAccounts } from '../../src/shared/accounts.js';

/**
 * What tests read of the journal to check its invariants; nothing in Kiosque
 * asks these questions at run time, so they live with the tests.
 */

/** Entries whose postings do not sum to zero in some unit: always none. */
export function unbalancedEntries(db: Connection['prisma']) {
  return db.ledgerPosting.groupBy({
    by: ['entryId', 'unit'],
    _sum: { amount: true },
    having: { amount: { _sum: { not: 0 } } },
  });
}

/** A household's balances summed from its postings: what the kept balances must always equal. */
export async function householdJournalBalances(sql: Sql, holderId: string): Promise<HouseholdPoints> {
  const [row] = await sql.rows<HouseholdPoints>(
    {
      name: 'test_household_journal_balances',
      text: `SELECT COALESCE(-sum(amount) FILTER (WHERE account = $1::text), 0)::int AS available,
               COALESCE(-sum(amount) FILTER (WHERE account = $2::text), 0)::int AS pending,
               COALESCE(sum(amount) FILTER (WHERE account = $3::text), 0)::int AS owed
        FROM ledger_postings
        WHERE account IN ($1::text, $2::text, $3::text) AND unit = $4::text`,
    },
    [pointsAccounts.available(holderId), pointsAccounts.pending(holderId), pointsAccounts.owed(holderId), POINTS],
  );
  return row ?? { available: 0, pending: 0, owed: 0 };
}

/** The balance of one account from its postings, signed (debit positive), in its unit (euros unless said). */
export async function accountBalance(sql: Sql, account: string, unit: string = EUR): Promise<Decimal> {
  const [row] = await sql.rows<{ balance: string }>(
    {
      name: 'test_account_balance',
      text: `SELECT COALESCE(sum(amount), 0)::text AS balance FROM ledger_postings
        WHERE account = $1::text AND unit = $2::text`,
    },
    [account, unit],
  );
  return new Decimal(row?.balance ?? '0');
}
