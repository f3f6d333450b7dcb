import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pointsAccounts } from '../src/shared/accounts.js';
import { householdBalances, lockHousehold } from '../src/store/points.js';
import { householdJournalBalances } from './support/journal.js';
import { onPool } from '../src/store/sql.js';
import { TEST_DATABASE_URL } from './support/env.js';
import { provision, unique } from './support/harness.js';
import { useGateway, useOperator } from './support/world.js';
import { subscriberRow } from './support/rows.js';

/**
 * A household's balances live on its row beside the journal, moved by a
 * trigger in the transaction of each posting: these tests write postings the
 * way no code path should, straight in SQL, to show the database keeps the
 * two equal and refuses what would break them.
 */
const gw = useGateway();
const operator = useOperator(gw);
let sql: pg.Pool;
let holderId: string;

/** One entry and its postings in one statement, as the journal's balance check (per statement) expects. */
async function post(key: string, postings: [account: string, amount: number][]): Promise<void> {
  await sql.query(
    `WITH e AS (
       INSERT INTO ledger_entries (key, kind, operator_id, created_at) VALUES ($1, 'points_earn', $2, now()) RETURNING id
     )
     INSERT INTO ledger_postings (entry_id, account, unit, amount)
     SELECT e.id, p.account, 'PTS', p.amount FROM e, unnest($3::text[], $4::numeric[]) AS p(account, amount)`,
    [key, operator.id, postings.map(([account]) => account), postings.map(([, amount]) => amount)],
  );
}

beforeAll(async () => {
  sql = new pg.Pool({ connectionString: TEST_DATABASE_URL, max: 3 });
  const ref = unique('household');
  await provision(gw, operator, ref);
  holderId = (await subscriberRow(gw, operator.id, ref)).id;
});
afterAll(() => sql.end());

describe('The balances kept on a household’s row', () => {
  it('When points are posted for a household that never registered, then the database refuses the posting', async () => {
    await expect(
      post(unique('points-earn:orphan'), [
        [pointsAccounts.issued(operator.id), 5],
        [pointsAccounts.pending(holderId), -5],
      ]),
    ).rejects.toThrow(/not registered/);
    expect(await householdJournalBalances(onPool(sql), holderId)).toEqual({ available: 0, pending: 0, owed: 0 });
  });

  it('When entries earn, mature and spend, then the kept balances equal the journal’s sums, and the lock returns them', async () => {
    await sql.query('INSERT INTO points_households (holder_id, operator_id) VALUES ($1, $2)', [holderId, operator.id]);
    await post(unique('points-earn:a'), [
      [pointsAccounts.issued(operator.id), 40],
      [pointsAccounts.pending(holderId), -40],
    ]);
    await post(unique('points-mature:a'), [
      [pointsAccounts.pending(holderId), 30],
      [pointsAccounts.available(holderId), -30],
    ]);
    await post(unique('points-spend:a'), [
      [pointsAccounts.available(holderId), 12],
      [pointsAccounts.redeemed(operator.id), -12],
    ]);
    const expected = { available: 18, pending: 10, owed: 0 };
    expect(await householdJournalBalances(onPool(sql), holderId)).toEqual(expected);
    expect(await householdBalances(onPool(sql), holderId)).toEqual(expected);
    expect((await lockHousehold(onPool(sql), holderId))?.balances).toEqual(expected);
  });

  it('When a posting would take the available balance below zero, then the database refuses the whole entry', async () => {
    const before = await householdBalances(onPool(sql), holderId);
    await expect(
      post(unique('points-spend:b'), [
        [pointsAccounts.available(holderId), before.available + 1],
        [pointsAccounts.redeemed(operator.id), -(before.available + 1)],
      ]),
    ).rejects.toThrow(/points_households_balances_not_negative/);
    expect(await householdBalances(onPool(sql), holderId)).toEqual(before);
    expect(await householdJournalBalances(onPool(sql), holderId)).toEqual(before);
  });
});
