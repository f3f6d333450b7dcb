import type { Sql, Statement } from './sql.js';

/*
 * Idempotency keys as stored: claimed with the write they guard, and the reply
 * stored under them for a retry to get byte for byte.
 */

/** An idempotency key claimed together with the write it guards, and the reply stored under it. */
export interface KeyedReply {
  scope: string;
  key: string;
  requestHash: string;
  status: number;
  body: string;
}

/** What an earlier request with the same key stored: replay it, or refuse if the request differs. */
export interface StoredReply {
  requestHash: string;
  status: number;
  body: string;
}

const READ_KEY: Statement = {
  name: 'idempotency_key_read',
  text: `SELECT request_hash AS "requestHash", response_status AS status, response_body AS body
    FROM idempotency_keys WHERE scope = $1::text AND key = $2::text`,
};

const CLAIM_KEY: Statement = {
  name: 'idempotency_key_claim',
  text: `INSERT INTO idempotency_keys (scope, key, request_hash, response_status, response_body)
    VALUES ($1::text, $2::text, $3::text, 0, '')
    ON CONFLICT (scope, key) DO NOTHING
    RETURNING key`,
};

const SAVE_KEY_REPLY: Statement = {
  name: 'idempotency_key_save',
  text: `UPDATE idempotency_keys SET response_status = $3::int, response_body = $4::text
    WHERE scope = $1::text AND key = $2::text`,
};

/**
 * What was stored under a key that a claim found taken: the claim waited for
 * the transaction holding it to end, so this new statement sees its row.
 */
export async function storedReply(sql: Sql, scope: string, key: string): Promise<StoredReply> {
  const [stored] = await sql.rows<StoredReply>(READ_KEY, [scope, key]);
  if (!stored) throw new Error(`Idempotency key ${scope}/${key} conflicted but cannot be read`);
  return stored;
}

/**
 * Claims a key inside the caller's transaction: a concurrent request with the
 * same key waits on its row until this transaction ends. Null when claimed,
 * else what the earlier request stored.
 */
export async function claimKey(sql: Sql, scope: string, key: string, requestHash: string): Promise<StoredReply | null> {
  const claimed = await sql.rows(CLAIM_KEY, [scope, key, requestHash]);
  return claimed.length > 0 ? null : storedReply(sql, scope, key);
}

export async function saveKeyReply(sql: Sql, scope: string, key: string, status: number, body: string): Promise<void> {
  await sql.rows(SAVE_KEY_REPLY, [scope, key, status, body]);
}
