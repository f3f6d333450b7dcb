import { describe, expect, it } from 'vitest';
import { matchEntry, referencedIds, type KnownPayout } from '../src/domain/bank-statement-matching.js';
import { parseCamt053 } from '../src/domain/camt053.js';
import { Decimal } from '../src/shared/money.js';

const NS = 'urn:iso:std:iso:20022:tech:xsd:camt.053.001.08';
const RUN = 'brun_01KC0000000000000000000000';

const entry = (body: string, amount = '30.00', side = 'DBIT', status = 'BOOK') => `
  <c:Ntry><c:NtryRef>R1</c:NtryRef><c:Amt Ccy="EUR">${amount}</c:Amt><c:CdtDbtInd>${side}</c:CdtDbtInd>
    <c:Sts><c:Cd>${status}</c:Cd></c:Sts><c:NtryDtls>${body}</c:NtryDtls></c:Ntry>`;
const statement = (entries: string) => `<?xml version="1.0"?>
  <c:Document xmlns:c="${NS}"><c:BkToCstmrStmt><c:GrpHdr><c:MsgId>M</c:MsgId></c:GrpHdr><c:Stmt><c:Id>S-1</c:Id>
    <c:Acct><c:Id><c:IBAN>FR7630006000011234567890189</c:IBAN></c:Id></c:Acct>${entries}</c:Stmt></c:BkToCstmrStmt></c:Document>`;
const tx = (endToEnd: string, amount: string) =>
  `<c:TxDtls><c:Refs><c:EndToEndId>${endToEnd}</c:EndToEndId></c:Refs><c:Amt Ccy="EUR">${amount}</c:Amt></c:TxDtls>`;

const payouts = new Map<string, KnownPayout>([
  ['po_A', { amount: new Decimal('10.00'), status: 'created' }],
  ['po_B', { amount: new Decimal('20.00'), status: 'created' }],
]);
const lookups = { payouts, runs: new Map([[RUN, 'op_1']]) };

describe('camt.053 reading and matching', () => {
  it('When a namespace-prefixed statement books a payout run as one batch entry, then every transaction is matched', () => {
    const parsed = parseCamt053(statement(entry(tx('po_A', '10.00') + tx('po_B', '20.00'))));
    expect(parsed).toMatchObject({ statementId: 'S-1', iban: 'FR7630006000011234567890189' });
    expect(referencedIds(parsed.entries).payoutIds).toEqual(['po_A', 'po_B']);
    const matches = matchEntry(parsed.entries[0]!, lookups, new Map());
    expect(matches?.map((m) => m.kind)).toEqual(['payout_paid', 'payout_paid']);
  });

  it('When a batch has a stranger, a wrong amount, a pending status or a repeat, then the entry is unmatched whole', () => {
    const cases = [
      entry(tx('po_A', '10.00') + tx('po_Z', '20.00')),
      entry(tx('po_A', '10.00'), '11.00'),
      entry(tx('po_A', '10.00') + tx('po_B', '20.00'), '30.00', 'DBIT', 'PDNG'),
    ];
    for (const xml of cases)
      expect(matchEntry(parseCamt053(statement(xml)).entries[0]!, lookups, new Map())).toBeNull();
    const twice = parseCamt053(statement(entry(tx('po_A', '10.00'), '10.00') + entry(tx('po_A', '10.00'), '10.00')));
    const statuses = new Map<string, KnownPayout['status']>();
    expect(matchEntry(twice.entries[0]!, lookups, statuses)).not.toBeNull();
    expect(matchEntry(twice.entries[1]!, lookups, statuses)).toBeNull();
  });

  it('When a credit names one known run in its remittance information, then it is that run remitting', () => {
    const remit = (ustrd: string) =>
      parseCamt053(
        statement(entry(`<c:TxDtls><c:RmtInf><c:Ustrd>${ustrd}</c:Ustrd></c:RmtInf></c:TxDtls>`, '55.10', 'CRDT')),
      ).entries[0]!;
    expect(matchEntry(remit(`VIR ${RUN} DEC`), lookups, new Map())).toEqual([
      { kind: 'remittance', billingRunId: RUN, operatorId: 'op_1', amount: new Decimal('55.10') },
    ]);
    expect(matchEntry(remit('VIR brun_01KC0000000000000000000009'), lookups, new Map())).toBeNull();
  });

  it('When the document is not a camt.053 statement, then it is refused naming the body', () => {
    for (const xml of ['', '<a>', `<Document xmlns="urn:other"/>`, statement('').replace('<c:Id>S-1</c:Id>', '')]) {
      expect(() => parseCamt053(xml)).toThrow(expect.objectContaining({ code: 'invalid_request' }));
    }
  });
});
