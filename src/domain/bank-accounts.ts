import { electronicFormatIBAN, isValidBIC, validateIBAN, ValidationErrorsIBAN } from 'ibantools';
import { findBankAccount, upsertBankAccount, type BankAccountRecord } from '../store/bank-accounts.js';
import type { Sql } from '../store/sql.js';
import { invalidRequest, notFound } from './errors.js';

const IBAN_ERRORS: Partial<Record<ValidationErrorsIBAN, string>> = {
  [ValidationErrorsIBAN.NoIBANProvided]: 'is required',
  [ValidationErrorsIBAN.NoIBANCountry]: 'starts with no known country code',
  [ValidationErrorsIBAN.WrongBBANLength]: 'has the wrong length for its country',
  [ValidationErrorsIBAN.WrongBBANFormat]: "has characters its country's format does not allow",
  [ValidationErrorsIBAN.ChecksumNotNumber]: 'has check digits that are not digits',
  [ValidationErrorsIBAN.WrongIBANChecksum]: 'has wrong check digits (ISO 13616)',
  [ValidationErrorsIBAN.WrongAccountBankBranchChecksum]: 'has a wrong national check digit',
  [ValidationErrorsIBAN.QRIBANNotAllowed]: 'is a QR-IBAN, which takes no credit transfer',
};

/** An IBAN as given (spaces and case aside), checked by ibantools: ISO 13616 check digits, length and format per country. */
export function parseIban(input: string): string {
  const iban = electronicFormatIBAN(input) ?? '';
  const result = validateIBAN(iban);
  if (!result.valid) {
    const reason = IBAN_ERRORS[result.errorCodes[0] as ValidationErrorsIBAN] ?? 'is not a valid IBAN';
    throw invalidRequest(`The IBAN ${reason}`, { fields: { iban: reason } });
  }
  return iban;
}

function parseBic(input: string): string {
  const bic = input.replace(/\s+/g, '').toUpperCase();
  if (!isValidBIC(bic)) throw invalidRequest('The BIC is not valid', { fields: { bic: 'is not a valid BIC' } });
  return bic;
}

/** All but the last 4 characters hidden: enough for the publisher to recognise its account, no more. */
export function maskIban(iban: string): string {
  return '*'.repeat(Math.max(iban.length - 4, 0)) + iban.slice(-4);
}

export interface BankAccountInput {
  iban: string;
  bic?: string | undefined;
  holderName: string;
}

/** Replaces the publisher's account for payouts; later payout runs pay to it. */
export async function registerBankAccount(
  sql: Sql,
  publisherId: string,
  input: BankAccountInput,
  now = new Date(),
): Promise<BankAccountRecord> {
  const account: BankAccountRecord = {
    publisherId,
    iban: parseIban(input.iban),
    bic: input.bic === undefined ? null : parseBic(input.bic),
    holderName: input.holderName,
    updatedAt: now,
  };
  await upsertBankAccount(sql, account);
  return account;
}

/** The publisher's account for payouts; 404 until it registers one. */
export async function bankAccountOf(sql: Sql, publisherId: string): Promise<BankAccountRecord> {
  const account = await findBankAccount(sql, publisherId);
  if (!account) throw notFound('Bank account');
  return account;
}
