import { create } from 'xmlbuilder2';
import type { PayoutRun } from './payout-runs.js';
import { invalidState } from './errors.js';
import { formatAmount } from './money.js';

const PAIN_001_NAMESPACE = 'urn:iso:std:iso:20022:tech:xsd:pain.001.001.09';

export interface Debtor {
  legalName: string;
  iban: string;
  bic: string;
}

/** ISO 20022 ISODateTime without milliseconds, in UTC, as banks' validators expect. */
const isoDateTime = (at: Date) => at.toISOString().replace(/\.\d{3}Z$/, 'Z');

/**
 * A payout run as one SEPA credit transfer initiation (pain.001.001.09): one
 * payment information block debiting Kiosque's account on the execution date,
 * one transaction per payout, identified end to end by the payout's id, which
 * the bank's statement (camt.053) hands back. Built with an XML builder, which
 * escapes every name and reference.
 */
export function renderPain001(paid: PayoutRun, debtor: Debtor): string {
  const { run, payouts } = paid;
  // The schema requires at least one transaction per PmtInf: a bank would reject an empty file, so none is made.
  if (payouts.length === 0) throw invalidState('This payout run pays nobody: there is no credit transfer file to send');
  const transactions = payouts.map((p) => ({
    PmtId: { EndToEndId: p.id },
    Amt: { InstdAmt: { '@Ccy': 'EUR', '#': formatAmount(p.amount) } },
    Cdtr: { Nm: p.creditorName ?? '' },
    CdtrAcct: { Id: { IBAN: p.creditorIban ?? '' } },
    RmtInf: { Ustrd: `Kiosque payout ${p.id}` },
  }));
  const document = {
    Document: {
      '@xmlns': PAIN_001_NAMESPACE,
      CstmrCdtTrfInitn: {
        GrpHdr: {
          MsgId: run.id,
          CreDtTm: isoDateTime(run.createdAt),
          NbOfTxs: String(run.count),
          CtrlSum: formatAmount(run.total),
          InitgPty: { Nm: debtor.legalName },
        },
        PmtInf: {
          PmtInfId: run.id,
          PmtMtd: 'TRF',
          NbOfTxs: String(run.count),
          CtrlSum: formatAmount(run.total),
          PmtTpInf: { SvcLvl: { Cd: 'SEPA' } },
          ReqdExctnDt: { Dt: run.executionDate },
          Dbtr: { Nm: debtor.legalName },
          DbtrAcct: { Id: { IBAN: debtor.iban } },
          DbtrAgt: { FinInstnId: { BICFI: debtor.bic } },
          ChrgBr: 'SLEV',
          CdtTrfTxInf: transactions,
        },
      },
    },
  };
  return create({ version: '1.0', encoding: 'UTF-8' }, document).end({ prettyPrint: true });
}
