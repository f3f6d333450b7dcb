import { readFileSync } from 'node:fs';
import pg from 'pg';
import { create } from 'xmlbuilder2';
import { expect } from 'vitest';
import { TEST_DATABASE_URL } from './env.js';
import { postBillingRun, waitForRun } from './billing.js';
import { admin, bearer, idemKey, type OperatorFixture, type PublisherFixture, type TestGateway } from './harness.js';

/** Helpers of the money-that-moves tests: runs, outcomes, balances and the journal, through the API. */
export function cashHarness(gw: TestGateway) {
  return {
    async run(op: OperatorFixture): Promise<string> {
      const posted = await postBillingRun(gw, op);
      expect(posted.status).toBe(202);
      const done = await waitForRun(gw, op, posted.body.id);
      expect(done.status).toBe('done');
      return done.id;
    },
    async invoices(op: OperatorFixture, runId: string): Promise<{ id: string; type: string; total: string }[]> {
      const res = await gw
        .api()
        .get('/v1/operator/invoices')
        .query({ billingRun: runId, limit: 200 })
        .set(bearer(op.apiKey));
      expect(res.status).toBe(200);
      return res.body.data;
    },
    async outcome(op: OperatorFixture, invoiceId: string, body: Record<string, unknown>) {
      const res = await gw.api().post(`/v1/operator/invoices/${invoiceId}/outcome`).set(bearer(op.apiKey)).send(body);
      expect(res.status).toBe(200);
    },
    async balance(publisher: PublisherFixture): Promise<Record<string, string>> {
      const res = await gw.api().get('/v1/balance').set(bearer(publisher.apiKey));
      expect(res.status).toBe(200);
      const b = res.body as Record<string, string>;
      // The identity of API.md v1.2 holds in every answer.
      const cents = (v: string | undefined) => Math.round(Number(v) * 100);
      expect(cents(b.pending) + cents(b.available) + cents(b.paidOut)).toBe(cents(b.settled));
      return b;
    },
    payout(publisherId: string, amount: string) {
      return gw
        .api()
        .post(`/v1/admin/publishers/${publisherId}/payouts`)
        .set(admin)
        .set('Idempotency-Key', idemKey())
        .send({ amount });
    },
    /** Every account's balance on its normal side, and whether the journal balances. */
    async ledger(): Promise<{ balanced: boolean; balance: (account: string) => string }> {
      const res = await gw.api().get('/v1/admin/ledger/balances').set(admin);
      expect(res.status).toBe(200);
      const byAccount = new Map<string, string>(
        res.body.accounts.map((a: { account: string; balance: string }) => [a.account, a.balance]),
      );
      return {
        balanced: res.body.totalDebit === res.body.totalCredit,
        balance: (account) => byAccount.get(account) ?? '0.00',
      };
    },
  };
}

/**
 * A payout run pays every eligible publisher in the database, and test files
 * run in parallel on one database: every test that registers a bank account
 * for a publisher with money, or runs payouts, does it holding this session
 * advisory lock, so no other file's run pays its publishers under it.
 */
export async function withPayoutRunsToMyself<T>(work: () => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await client.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [PAYOUT_RUNS_TEST_LOCK]);
    return await work();
  } finally {
    await client.end();
  }
}

const PAYOUT_RUNS_TEST_LOCK = 7_2019_0001;

/** A run paying out, through the API, with an Idempotency-Key. */
export function postPayoutRun(gw: TestGateway, body: Record<string, unknown>, key = idemKey()) {
  return gw.api().post('/v1/admin/payout-runs').set(admin).set('Idempotency-Key', key).send(body);
}

export function registerBankAccount(gw: TestGateway, publisher: PublisherFixture, iban: string, holderName: string) {
  return gw.api().put('/v1/publisher/bank-account').set(bearer(publisher.apiKey)).send({ iban, holderName });
}

/** The checked-in camt.053 sample (test/fixtures), its {{tokens}} replaced by the ids and amounts of the test. */
export function camt053Fixture(values: Record<string, string>): string {
  const template = readFileSync(new URL('../fixtures/camt053-kiosque.xml', import.meta.url), 'utf8');
  return template.replace(/\{\{(\w+)\}\}/g, (_, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`camt053 fixture: no value for {{${name}}}`);
    return value;
  });
}

export function postStatement(gw: TestGateway, xml: string, contentType = 'application/xml') {
  return gw.api().post('/v1/admin/bank-statements').set(admin).set('Content-Type', contentType).send(xml);
}

export interface SimpleEntry {
  amount: string;
  creditDebit: 'CRDT' | 'DBIT';
  endToEndId?: string;
  ustrd?: string;
  returned?: boolean;
}

/** A minimal camt.053.001.08 statement of `iban` with one transaction per entry, for generated histories. */
export function camt053(statementId: string, iban: string, entries: readonly SimpleEntry[]): string {
  return create(
    { version: '1.0', encoding: 'UTF-8' },
    {
      Document: {
        '@xmlns': 'urn:iso:std:iso:20022:tech:xsd:camt.053.001.08',
        BkToCstmrStmt: {
          GrpHdr: { MsgId: `M-${statementId}`, CreDtTm: '2026-12-16T06:00:00Z' },
          Stmt: {
            Id: statementId,
            CreDtTm: '2026-12-16T06:00:00Z',
            Acct: { Id: { IBAN: iban } },
            Ntry: entries.map((e, i) => ({
              NtryRef: `E${i + 1}`,
              Amt: { '@Ccy': 'EUR', '#': e.amount },
              CdtDbtInd: e.creditDebit,
              Sts: { Cd: 'BOOK' },
              BookgDt: { Dt: '2026-12-15' },
              NtryDtls: {
                TxDtls: {
                  Refs: { EndToEndId: e.endToEndId ?? 'NOTPROVIDED' },
                  Amt: { '@Ccy': 'EUR', '#': e.amount },
                  ...(e.ustrd ? { RmtInf: { Ustrd: e.ustrd } } : {}),
                  ...(e.returned ? { RtrInf: { Rsn: { Cd: 'AC04' } } } : {}),
                },
              },
            })),
          },
        },
      },
    },
  ).end();
}
