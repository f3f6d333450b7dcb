import { maskIban } from '../../domain/bank-accounts.js';
import type { BankAccountRecord } from '../../store/bank-accounts.js';

export function bankAccountResource(account: BankAccountRecord) {
  return { iban: maskIban(account.iban), bic: account.bic, holderName: account.holderName };
}
