import type { Sql, Statement } from './sql.js';

export interface BankAccountRecord {
  publisherId: string;
  iban: string;
  bic: string | null;
  holderName: string;
  updatedAt: Date;
}

const UPSERT: Statement = {
  name: 'bank_account_upsert',
  text: `INSERT INTO bank_accounts (publisher_id, iban, bic, holder_name, updated_at)
    VALUES ($1::text, $2::text, $3::text, $4::text, $5::timestamptz)
    ON CONFLICT (publisher_id) DO UPDATE
      SET iban = EXCLUDED.iban, bic = EXCLUDED.bic, holder_name = EXCLUDED.holder_name, updated_at = EXCLUDED.updated_at`,
};

export async function upsertBankAccount(sql: Sql, account: BankAccountRecord): Promise<void> {
  await sql.rows(UPSERT, [account.publisherId, account.iban, account.bic, account.holderName, account.updatedAt]);
}

const FIND: Statement = {
  name: 'bank_account_find',
  text: `SELECT publisher_id AS "publisherId", iban, bic, holder_name AS "holderName", updated_at AS "updatedAt"
    FROM bank_accounts WHERE publisher_id = $1::text`,
};

export async function findBankAccount(sql: Sql, publisherId: string): Promise<BankAccountRecord | null> {
  const [row] = await sql.rows<BankAccountRecord>(FIND, [publisherId]);
  return row ?? null;
}
