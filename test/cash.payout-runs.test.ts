import { XMLParser } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { useBillingHarness } from './support/billing.js';
import { cashHarness, postPayoutRun, registerBankAccount, withPayoutRunsToMyself } from './support/cash.js';
import {
  admin,
  assertion,
  bearer,
  buy,
  createOperator,
  createPublisher,
  idemKey,
  provision,
  unique,
  type OperatorFixture,
  type PublisherFixture,
} from './support/harness.js';
import { ledgerEntry, payoutRunCount } from './support/rows.js';
import { useGateway } from './support/world.js';

const gw = useGateway({ queuePrefix: unique('q-payout-runs') });
const cash = cashHarness(gw);
useBillingHarness(gw, { worker: true });

const LIMITS = { limits: { perPurchase: '50.00', weekly: '300.00', monthly: '300.00' } };

/** A publisher (no commission) to whom `amounts` were sold, billed and collected: all of it available. */
async function earning(op: OperatorFixture, amounts: string[], body: Record<string, unknown> = {}) {
  const publisher = await createPublisher(gw, { commissionRates: { isp: '0' }, ...body });
  const token = assertion(op, await provision(gw, op));
  for (const amount of amounts) expect((await buy(gw, publisher, token, { amount })).res.status).toBe(200);
  return publisher;
}

async function collectEverything(op: OperatorFixture) {
  const runId = await cash.run(op);
  for (const invoice of await cash.invoices(op, runId)) await cash.outcome(op, invoice.id, { status: 'paid' });
}

const mine = (payouts: { id: string; publisherId: string }[], publishers: PublisherFixture[]) =>
  payouts.filter((p) => publishers.some((q) => q.id === p.publisherId));

/** A second parser, independent of the builder that wrote the file, reading every value as text. */
const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  parseTagValue: false,
  isArray: (name) => name === 'CdtTrfTxInf',
});

describe('Payout runs', () => {
  it('When a run is made, then each eligible publisher is paid its whole available, in a pain.001 that reads back field by field', async () => {
    await withPayoutRunsToMyself(async () => {
      const op = await createOperator(gw, LIMITS);
      const big = await earning(op, ['50.00', '50.00', '20.50']);
      const small = await earning(op, ['40.00']);
      const noAccount = await earning(op, ['50.00', '50.00', '50.00']);
      const suspended = await earning(op, ['50.00', '50.00', '50.00']);
      await collectEverything(op);
      expect((await registerBankAccount(gw, big, 'DE89 3704 0044 0532 0130 00', 'Durand & Fils <SARL>')).status).toBe(
        200,
      );
      expect((await registerBankAccount(gw, small, 'FR1420041010050500013M02606', 'Petit Journal')).status).toBe(200);
      expect((await registerBankAccount(gw, suspended, 'NL91ABNA0417164300', 'Suspendu BV')).status).toBe(200);
      expect((await gw.api().post(`/v1/admin/publishers/${suspended.id}/suspend`).set(admin).send({})).status).toBe(
        200,
      );
      const ours = [big, small, noAccount, suspended];

      const key = idemKey();
      const made = await postPayoutRun(gw, { executionDate: '2026-12-15' }, key);
      expect(made.status).toBe(201);
      expect(made.body).toMatchObject({ executionDate: '2026-12-15', count: made.body.payouts.length });
      expect(made.body.id.length).toBeLessThanOrEqual(35);
      expect(mine(made.body.payouts, ours)).toEqual([
        { id: expect.any(String), publisherId: big.id, amount: '120.50' },
      ]);
      const total = made.body.payouts.reduce(
        (s: number, p: { amount: string }) => s + Math.round(Number(p.amount) * 100),
        0,
      );
      expect(Math.round(Number(made.body.total) * 100)).toBe(total);
      const [payout] = mine(made.body.payouts, ours);
      expect(payout?.id.length).toBeLessThanOrEqual(35);
      expect((await postPayoutRun(gw, { executionDate: '2026-12-15' }, key)).text).toBe(made.text);

      expect(await cash.balance(big)).toMatchObject({ available: '0.00', paidOut: '120.50' });
      expect((await cash.balance(small)).available).toBe('40.00');
      expect((await cash.balance(noAccount)).available).toBe('150.00');
      expect((await cash.balance(suspended)).available).toBe('150.00');
      const listed = await gw.api().get('/v1/payouts').set(bearer(big.apiKey));
      expect(listed.body).toEqual({
        data: [
          {
            id: payout?.id,
            amount: '120.50',
            status: 'created',
            payoutRunId: made.body.id,
            createdAt: expect.any(String),
          },
        ],
        nextCursor: null,
      });
      const entry = await ledgerEntry(gw, `payout:${payout?.id}`);
      expect(entry.postings.map((p) => [p.account, p.amount.toFixed(2)]).sort()).toEqual([
        ['kiosque:payouts_in_transit', '-120.50'],
        [`publisher:${big.id}:payable`, '120.50'],
      ]);

      const json = await gw.api().get(`/v1/admin/payout-runs/${made.body.id}`).set(admin);
      expect(json.body).toEqual(made.body);
      const xml = await gw
        .api()
        .get(`/v1/admin/payout-runs/${made.body.id}`)
        .set(admin)
        .set('Accept', 'application/xml');
      expect(xml.status).toBe(200);
      expect(xml.headers['content-type']).toMatch(/^application\/xml/);
      const doc = parser.parse(xml.text).Document;
      expect(doc['@xmlns']).toBe('urn:iso:std:iso:20022:tech:xsd:pain.001.001.09');
      const header = doc.CstmrCdtTrfInitn.GrpHdr;
      expect(header).toMatchObject({ MsgId: made.body.id, NbOfTxs: String(made.body.count), CtrlSum: made.body.total });
      const info = doc.CstmrCdtTrfInitn.PmtInf;
      expect(info).toMatchObject({
        PmtMtd: 'TRF',
        NbOfTxs: String(made.body.count),
        CtrlSum: made.body.total,
        ReqdExctnDt: { Dt: '2026-12-15' },
        Dbtr: { Nm: 'Kiosque SAS' },
        DbtrAcct: { Id: { IBAN: 'FR7630006000011234567890189' } },
      });
      expect(info.CdtTrfTxInf).toHaveLength(made.body.count);
      const tx = info.CdtTrfTxInf.find((t: { PmtId: { EndToEndId: string } }) => t.PmtId.EndToEndId === payout?.id);
      expect(tx).toEqual({
        PmtId: { EndToEndId: payout?.id },
        Amt: { InstdAmt: { '#text': '120.50', '@Ccy': 'EUR' } },
        Cdtr: { Nm: 'Durand & Fils <SARL>' },
        CdtrAcct: { Id: { IBAN: 'DE89370400440532013000' } },
        RmtInf: { Ustrd: expect.stringContaining(payout?.id as string) },
      });
      for (const t of info.CdtTrfTxInf as { PmtId: { EndToEndId: string }; Amt: { InstdAmt: { '#text': string } } }[]) {
        const listedPayout = made.body.payouts.find((p: { id: string }) => p.id === t.PmtId.EndToEndId);
        expect(t.Amt.InstdAmt['#text']).toBe(listedPayout.amount);
      }

      const lower = await postPayoutRun(gw, { executionDate: '2026-12-16', minimum: '10.00' });
      expect(mine(lower.body.payouts, ours)).toEqual([
        { id: expect.any(String), publisherId: small.id, amount: '40.00' },
      ]);
    });
  });

  it('When nobody is eligible, then the run is a 201 with count 0 and asking for its file is 409: there is nothing to send', async () => {
    await withPayoutRunsToMyself(async () => {
      const made = await postPayoutRun(gw, { executionDate: '2026-12-31', minimum: '99999999.00' });
      expect(made.status).toBe(201);
      expect(made.body).toMatchObject({ count: 0, total: '0.00', payouts: [] });
      const xml = await gw
        .api()
        .get(`/v1/admin/payout-runs/${made.body.id}`)
        .set(admin)
        .set('Accept', 'application/xml');
      expect(xml.status).toBe(409);
      expect(xml.headers['content-type']).toMatch(/^application\/json/);
      expect(JSON.parse(xml.text).error.code).toBe('invalid_state');
    });
  });

  it('When the request is bad, then it is a 400 naming the field and no run is made', async () => {
    const before = await payoutRunCount(gw);
    for (const [body, field] of [
      [{ executionDate: '2026-02-30' }, 'executionDate'],
      [{ executionDate: '15/12/2026' }, 'executionDate'],
      [{ executionDate: '2026-12-15', minimum: '100' }, 'minimum'],
      [{}, 'executionDate'],
    ] as const) {
      const res = await postPayoutRun(gw, body);
      expect(res.status).toBe(400);
      expect(res.body.error.details.fields).toHaveProperty(field);
    }
    const keyless = await gw.api().post('/v1/admin/payout-runs').set(admin).send({ executionDate: '2026-12-15' });
    expect(keyless.status).toBe(400);
    expect(await payoutRunCount(gw)).toBe(before);
    expect((await gw.api().get('/v1/admin/payout-runs/prun_nope').set(admin)).status).toBe(404);
    const publisher = await createPublisher(gw);
    expect((await postPayoutRun(gw, { executionDate: '2026-12-15' }).set(bearer(publisher.apiKey))).status).toBe(403);
  });
});
