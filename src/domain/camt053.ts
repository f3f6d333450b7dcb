import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { invalidRequest } from './errors.js';
import { Decimal } from '../shared/money.js';

const CAMT_053_NAMESPACE = 'urn:iso:std:iso:20022:tech:xsd:camt.053.001.08';

/** One transaction of an entry: a batch-booked entry has several, a single transfer one. */
export interface StatementTransaction {
  /** Refs/EndToEndId, unless absent or NOTPROVIDED. */
  endToEndId: string | null;
  /** Every RmtInf/Ustrd, in order. */
  unstructured: string[];
  /** TxDtls/RtrInf is present: the transfer came back. */
  returned: boolean;
  /** The transaction's own amount, or the entry's when it has one transaction. */
  amount: Decimal | null;
}

export interface StatementEntry {
  /** Its position in the statement, from 0: with the statement's id, it names the entry for ever. */
  index: number;
  entryReference: string | null;
  amount: Decimal;
  currency: string;
  creditDebit: 'CRDT' | 'DBIT';
  booked: boolean;
  reversal: boolean;
  transactions: StatementTransaction[];
}

export interface BankStatement {
  statementId: string;
  iban: string;
  entries: StatementEntry[];
}

type Node = Record<string, unknown>;

const ARRAYS = new Set(['Stmt', 'Ntry', 'NtryDtls', 'TxDtls', 'Ustrd']);
const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  removeNSPrefix: true,
  parseTagValue: false,
  trimValues: true,
  isArray: (name) => ARRAYS.has(name),
});
/** Read apart, to see the root element's namespace (removeNSPrefix drops the xmlns attributes). */
const rootReader = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@', parseTagValue: false });

const refuse = (message: string) => invalidRequest(message, { fields: { body: message } });

function node(value: unknown): Node {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Node) : {};
}
function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : value === undefined ? [] : [value];
}
/** An element's text, whether or not it carries attributes. */
function text(value: unknown): string | null {
  if (typeof value === 'string') return value;
  const inner = node(value)['#text'];
  return typeof inner === 'string' ? inner : null;
}
function at(value: unknown, ...path: string[]): unknown {
  return path.reduce<unknown>((current, key) => node(current)[key], value);
}

const AMOUNT = /^\d{1,15}(\.\d{1,5})?$/;
function amountOf(value: unknown): Decimal | null {
  const raw = text(value);
  return raw !== null && AMOUNT.test(raw) ? new Decimal(raw) : null;
}

function rootNamespace(xml: string): string | null {
  const tree = node(rootReader.parse(xml));
  const rootName = Object.keys(tree).find((k) => !k.startsWith('?') && !k.startsWith('#'));
  if (!rootName) return null;
  const [prefix, local] = rootName.includes(':') ? rootName.split(':') : [null, rootName];
  if (local !== 'Document') return null;
  const ns = node(tree[rootName])[prefix ? `@xmlns:${prefix}` : '@xmlns'];
  return typeof ns === 'string' ? ns : null;
}

function transaction(tx: unknown, entryAmount: Decimal, single: boolean): StatementTransaction {
  const endToEnd = text(at(tx, 'Refs', 'EndToEndId'));
  const own = amountOf(at(tx, 'Amt')) ?? amountOf(at(tx, 'AmtDtls', 'TxAmt', 'Amt'));
  return {
    endToEndId: endToEnd && endToEnd !== 'NOTPROVIDED' ? endToEnd : null,
    unstructured: list(at(tx, 'RmtInf', 'Ustrd'))
      .map(text)
      .filter((u): u is string => u !== null),
    returned: at(tx, 'RtrInf') !== undefined,
    amount: own ?? (single ? entryAmount : null),
  };
}

function entry(raw: unknown, index: number): StatementEntry {
  const amount = amountOf(at(raw, 'Amt'));
  const creditDebit = text(at(raw, 'CdtDbtInd'));
  if (!amount || (creditDebit !== 'CRDT' && creditDebit !== 'DBIT')) {
    throw refuse(`Entry ${index + 1} has no valid Amt or CdtDbtInd`);
  }
  const details = list(at(raw, 'NtryDtls')).flatMap((d) => list(at(d, 'TxDtls')));
  const status = text(at(raw, 'Sts', 'Cd')) ?? text(at(raw, 'Sts'));
  return {
    index,
    entryReference: text(at(raw, 'NtryRef')),
    amount,
    currency: text(at(raw, 'Amt', '@Ccy')) ?? '',
    creditDebit,
    booked: status === null || status === 'BOOK',
    reversal: text(at(raw, 'RvslInd')) === 'true',
    transactions:
      details.length === 0
        ? [{ endToEndId: null, unstructured: [], returned: false, amount }]
        : details.map((tx) => transaction(tx, amount, details.length === 1)),
  };
}

/**
 * A camt.053.001.08 bank-to-customer statement, read with a real XML parser.
 * Refused (400) when it is not well-formed, declares a DOCTYPE (no bank sends
 * one, and entities are how XML parsers are attacked), is another message
 * type, or holds other than exactly one statement.
 */
export function parseCamt053(xml: string): BankStatement {
  if (xml.trim() === '') throw refuse('The body must be a camt.053 XML document');
  if (/<!DOCTYPE/i.test(xml)) throw refuse('A statement must not declare a DOCTYPE');
  const valid = XMLValidator.validate(xml);
  if (valid !== true) throw refuse(`The statement is not well-formed XML: ${valid.err.msg} (line ${valid.err.line})`);
  const namespace = rootNamespace(xml);
  if (namespace !== CAMT_053_NAMESPACE) {
    throw refuse(`Expected a ${CAMT_053_NAMESPACE} Document, got ${namespace ?? 'another document'}`);
  }
  const statements = list(at(parser.parse(xml), 'Document', 'BkToCstmrStmt', 'Stmt'));
  if (statements.length !== 1) throw refuse(`Expected one Stmt, got ${statements.length}`);
  const stmt = statements[0];
  const statementId = text(at(stmt, 'Id'));
  const iban = text(at(stmt, 'Acct', 'Id', 'IBAN'));
  if (!statementId || !iban) throw refuse('The statement has no Stmt/Id or no Acct/Id/IBAN');
  return { statementId, iban, entries: list(at(stmt, 'Ntry')).map(entry) };
}
