import { describe, expect, it } from 'vitest';
import { useBillingHarness, refund } from './support/billing.js';
import {
  camt053,
  cashHarness,
  postPayoutRun,
  postStatement,
  registerBankAccount,
  withPayoutRunsToMyself,
} from './support/cash.js';
import {
  assertion,
  bearer,
  buy,
  createOperator,
  createPublisher,
  idemKey,
  provision,
  unique,
} from './support/harness.js';
import { ledgerEntry } from './support/rows.js';
import { useGateway } from './support/world.js';

const gw = useGateway({ queuePrefix: unique('q-worked-month') });
const cash = cashHarness(gw);
useBillingHarness(gw, { worker: true });

async function postings(key: string, names: Record<string, string>): Promise<string[][]> {
  const entry = await ledgerEntry(gw, key);
  const rename = (account: string) => Object.entries(names).reduce((a, [id, name]) => a.replaceAll(id, name), account);
  return entry.postings.map((p) => [rename(p.account), p.amount.toFixed(2)]).sort();
}

describe('docs/money.md, the worked month', () => {
  it('When the month of docs/money.md is played from purchase to the bank, then every figure is the one the doc shows', async () => {
    await withPayoutRunsToMyself(async () => {
      const op = await createOperator(gw);
      const pub = await createPublisher(gw, { category: 'press', commissionRates: { isp: '0.15' } });
      const names = { [op.id]: 'op', [pub.id]: 'pub' };
      const token = assertion(op, await provision(gw, op));
      await buy(gw, pub, token, { amount: '10.00' });
      await refund(gw, pub.apiKey, (await buy(gw, pub, token, { amount: '4.00' })).id, '1.00');

      const run1 = await cash.run(op);
      expect(await postings(`availability:${run1}:${pub.id}`, names)).toEqual([
        ['publisher:pub:payable', '11.05'],
        ['publisher:pub:pending', '-11.05'],
      ]);
      expect(await cash.balance(pub)).toEqual({
        pending: '11.05',
        available: '0.00',
        settled: '11.05',
        paidOut: '0.00',
      });

      const [inv1] = await cash.invoices(op, run1);
      await cash.outcome(op, inv1?.id as string, { status: 'partially_paid', collected: '12.00' });
      expect(await postings(`release:${inv1?.id}`, names)).toEqual([
        ['publisher:pub:held:op', '-0.85'],
        ['publisher:pub:payable', '-10.20'],
        ['publisher:pub:pending', '11.05'],
      ]);
      expect(await cash.balance(pub)).toEqual({
        pending: '0.85',
        available: '10.20',
        settled: '11.05',
        paidOut: '0.00',
      });

      const run2 = await cash.run(op);
      expect(await postings(`availability:${run2}:${pub.id}`, names)).toEqual([
        ['publisher:pub:held:op', '0.85'],
        ['publisher:pub:payable', '-0.85'],
      ]);
      expect(await cash.balance(pub)).toEqual({
        pending: '0.00',
        available: '10.20',
        settled: '10.20',
        paidOut: '0.00',
      });

      expect((await registerBankAccount(gw, pub, 'FR7630006000011234567890189', 'Le Quotidien')).status).toBe(200);
      const made = await postPayoutRun(gw, { executionDate: '2027-01-15', minimum: '10.00' });
      const po1 = made.body.payouts.find((p: { publisherId: string }) => p.publisherId === pub.id);
      expect(po1).toMatchObject({ amount: '10.20' });
      expect(await postings(`payout:${po1.id}`, names)).toEqual([
        ['kiosque:payouts_in_transit', '-10.20'],
        ['publisher:pub:payable', '10.20'],
      ]);
      expect(await cash.balance(pub)).toEqual({
        pending: '0.00',
        available: '0.00',
        settled: '10.20',
        paidOut: '10.20',
      });

      const statement = camt053(`STMT-${idemKey()}`, gw.ctx.config.kiosqueAccount.iban, [
        { amount: '12.00', creditDebit: 'CRDT', ustrd: `REMISE ${run1}` },
        { amount: '10.20', creditDebit: 'DBIT', endToEndId: po1.id },
      ]);
      const imported = await postStatement(gw, statement);
      expect(imported.body).toMatchObject({ entries: 2, matched: 2, unmatched: [] });
      expect(await postings(`payout_paid:${po1.id}`, names)).toEqual([
        ['kiosque:bank', '-10.20'],
        ['kiosque:payouts_in_transit', '10.20'],
      ]);
      const reconciliation = await gw
        .api()
        .get(`/v1/operator/billing-runs/${run1}/reconciliation`)
        .set(bearer(op.apiKey));
      expect(reconciliation.body).toMatchObject({
        collected: '12.00',
        remitted: '12.00',
        remittanceDifference: '0.00',
      });
      expect((await gw.api().get('/v1/payouts').set(bearer(pub.apiKey))).body.data[0]).toMatchObject({
        id: po1.id,
        status: 'paid',
      });

      // Every account of the month at zero, but the bank and the commission: 1.80 each.
      const ledger = await cash.ledger();
      for (const account of [
        `operator:${op.id}:receivable`,
        `operator:${op.id}:collected`,
        `publisher:${pub.id}:pending`,
        `publisher:${pub.id}:held:${op.id}`,
        `publisher:${pub.id}:payable`,
        ...['sales', 'commission', 'refunds', 'chargebacks'].map((k) => `unsettled:${op.id}:${pub.id}:${k}`),
      ])
        expect({ account, balance: ledger.balance(account) }).toEqual({ account, balance: '0.00' });
      const [month] = await gw.ctx.database.prisma.$queryRaw<{ bank: string; commission: string }[]>`
        SELECT COALESCE(sum(p.amount) FILTER (WHERE p.account = 'kiosque:bank'), 0)::text AS bank,
               COALESCE(-sum(p.amount) FILTER (WHERE p.account = 'kiosque:commission'), 0)::text AS commission
        FROM ledger_entries e JOIN ledger_postings p ON p.entry_id = e.id
        WHERE e.operator_id = ${op.id} OR e.publisher_id = ${pub.id}`;
      expect(month).toEqual({ bank: '1.80', commission: '1.80' });
      expect(ledger.balanced).toBe(true);
    });
  });
});
