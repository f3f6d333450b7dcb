import { describe, expect, it } from 'vitest';
import { useBillingHarness } from './support/billing.js';
import {
  camt053Fixture,
  cashHarness,
  postPayoutRun,
  postStatement,
  registerBankAccount,
  withPayoutRunsToMyself,
} from './support/cash.js';
import {
  admin,
  assertion,
  bearer,
  buy,
  createOperator,
  createPublisher,
  provision,
  unique,
  type OperatorFixture,
  type PublisherFixture,
} from './support/harness.js';
import { bankStatementCount, remittanceCount } from './support/rows.js';
import { useGateway } from './support/world.js';

const gw = useGateway({ queuePrefix: unique('q-statements') });
const cash = cashHarness(gw);
useBillingHarness(gw, { worker: true });

const LIMITS = { limits: { perPurchase: '50.00', weekly: '300.00', monthly: '300.00' } };

async function earning(op: OperatorFixture, amounts: string[]) {
  const publisher = await createPublisher(gw, { commissionRates: { isp: '0' } });
  const token = assertion(op, await provision(gw, op));
  for (const amount of amounts) expect((await buy(gw, publisher, token, { amount })).res.status).toBe(200);
  return publisher;
}

const statusOf = async (publisher: PublisherFixture) =>
  (await gw.api().get('/v1/payouts').set(bearer(publisher.apiKey))).body.data.map((p: { status: string }) => p.status);

/** The sum of one account's postings over the entries with these keys. */
async function moved(account: string, keys: string[]): Promise<string> {
  const [row] = await gw.ctx.database.prisma.$queryRaw<{ total: string }[]>`
    SELECT COALESCE(sum(p.amount), 0)::text AS total FROM ledger_entries e JOIN ledger_postings p ON p.entry_id = e.id
    WHERE e.key = ANY(${keys}) AND p.account = ${account}`;
  return Number(row?.total ?? 0).toFixed(2);
}

describe('Bank statements (camt.053)', () => {
  it("When the bank's statement is imported, then the remittance, the paid and the returned transfers are booked, the rest is listed, and a second import books nothing", async () => {
    await withPayoutRunsToMyself(async () => {
      const op = await createOperator(gw, LIMITS);
      const quotidien = await earning(op, ['50.00', '50.00', '2.00']);
      const hebdo = await earning(op, ['50.00', '50.00', '10.00']);
      const runId = await cash.run(op);
      for (const invoice of await cash.invoices(op, runId)) await cash.outcome(op, invoice.id, { status: 'paid' });
      await registerBankAccount(gw, quotidien, 'FR7630006000011234567890189', 'Le Petit Quotidien');
      await registerBankAccount(gw, hebdo, 'DE89370400440532013000', 'Das Hebdo GmbH');
      const made = await postPayoutRun(gw, { executionDate: '2026-12-15' });
      const payoutOf = (p: PublisherFixture) =>
        made.body.payouts.find((x: { publisherId: string }) => x.publisherId === p.id) as {
          id: string;
          amount: string;
        };
      const [paid, returned] = [payoutOf(quotidien), payoutOf(hebdo)];
      expect([paid.amount, returned.amount]).toEqual(['102.00', '110.00']);

      const values = {
        statementId: unique('STMT-2026-12-15'),
        iban: gw.ctx.config.kiosqueAccount.iban,
        closingBalance: '25018.00',
        remitted: '200.00',
        billingRunId: runId,
        payoutRunId: made.body.id,
        paidPayoutId: paid.id,
        paidAmount: paid.amount,
        returnedPayoutId: returned.id,
        returnedAmount: returned.amount,
      };
      const xml = camt053Fixture(values);

      // Refused whole, and nothing booked: not well-formed, another message type, another account, not XML.
      const pain001 = (
        await gw.api().get(`/v1/admin/payout-runs/${made.body.id}`).set(admin).set('Accept', 'application/xml')
      ).text;
      const statementsBefore = await bankStatementCount(gw);
      for (const bad of [
        xml.slice(0, xml.length - 40),
        pain001,
        camt053Fixture({ ...values, iban: 'DE89370400440532013000' }),
        xml.replace('xsd:camt.053.001.08', 'xsd:camt.052.001.08'),
        '<!DOCTYPE d [<!ENTITY x "y">]><Document/>',
      ]) {
        const refused = await postStatement(gw, bad);
        expect(refused.status).toBe(400);
        expect(refused.body.error.code).toBe('invalid_request');
      }
      expect((await postStatement(gw, JSON.stringify({ xml }), 'application/json')).status).toBe(400);
      expect(await bankStatementCount(gw)).toBe(statementsBefore);
      expect(await statusOf(quotidien)).toEqual(['created']);

      const imported = await postStatement(gw, xml);
      expect(imported.status).toBe(201);
      expect(imported.body).toEqual({
        id: expect.any(String),
        entries: 6,
        matched: 4,
        unmatched: [
          {
            entryReference: '20261215-000102',
            amount: '42.00',
            creditDebit: 'CRDT',
            reference: 'REVERSEMENT KIOSQUE brun_00000000000000000000000000',
          },
          {
            entryReference: '20261215-000106',
            amount: '12.00',
            creditDebit: 'DBIT',
            reference: 'FRAIS TENUE DE COMPTE DECEMBRE',
          },
        ],
      });

      expect(await statusOf(quotidien)).toEqual(['paid']);
      expect(await statusOf(hebdo)).toEqual(['returned']);
      expect(await cash.balance(quotidien)).toMatchObject({ available: '0.00', paidOut: '102.00' });
      expect(await cash.balance(hebdo)).toMatchObject({ available: '110.00', paidOut: '0.00' });
      const reconciliation = await gw
        .api()
        .get(`/v1/operator/billing-runs/${runId}/reconciliation`)
        .set(bearer(op.apiKey));
      expect(reconciliation.body).toMatchObject({
        collected: '212.00',
        remitted: '200.00',
        remittanceDifference: '12.00',
      });

      // The cash leg: the bank moves with the statement, the transit account empties, the return is owed again.
      const keys = [
        `payout:${paid.id}`,
        `payout:${returned.id}`,
        `payout_paid:${paid.id}`,
        `payout_paid:${returned.id}`,
        `payout_returned:${returned.id}`,
      ];
      const remittance = await gw.ctx.database.prisma.ledgerEntry.findFirstOrThrow({
        where: { kind: 'remittance', billingRunId: runId },
      });
      expect(await moved('kiosque:bank', [...keys, remittance.key])).toBe('98.00');
      expect(await moved('kiosque:payouts_in_transit', keys)).toBe('0.00');
      expect(await moved(`operator:${op.id}:collected`, [remittance.key])).toBe('-200.00');
      expect(await moved(`publisher:${hebdo.id}:payable`, keys)).toBe('0.00');

      const again = await postStatement(gw, xml);
      expect(again.status).toBe(200);
      expect(again.body).toEqual(imported.body);
      expect(await remittanceCount(gw, runId)).toBe(1);
      expect((await cash.balance(hebdo)).available).toBe('110.00');
      expect((await gw.api().get(`/v1/admin/bank-statements/${imported.body.id}`).set(admin)).body).toEqual(
        imported.body,
      );
      expect((await gw.api().get('/v1/admin/bank-statements/bst_nope').set(admin)).status).toBe(404);
      expect((await cash.ledger()).balanced).toBe(true);
    });
  });

  it('When the same new statement is imported twice at once, then it is booked once', async () => {
    await withPayoutRunsToMyself(async () => {
      const op = await createOperator(gw, LIMITS);
      await earning(op, ['10.00']);
      const runId = await cash.run(op);
      const xml = camt053Fixture({
        statementId: unique('STMT-RACE'),
        iban: gw.ctx.config.kiosqueAccount.iban,
        closingBalance: '25010.00',
        remitted: '10.00',
        billingRunId: runId,
        payoutRunId: 'none',
        paidPayoutId: 'po_none',
        paidAmount: '1.00',
        returnedPayoutId: 'po_none2',
        returnedAmount: '1.00',
      });
      const answers = await Promise.all([postStatement(gw, xml), postStatement(gw, xml), postStatement(gw, xml)]);
      expect(answers.map((a) => a.status).sort()).toEqual([200, 200, 201]);
      expect(new Set(answers.map((a) => a.body.id)).size).toBe(1);
      expect(await remittanceCount(gw, runId)).toBe(1);
    });
  });
});
