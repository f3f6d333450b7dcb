import { createHash } from 'node:crypto';
import type { Request, Response } from 'express';
import { AppError } from '../domain/errors.js';
import { claimKey, saveKeyReply, type KeyedReply, type StoredReply } from '../store/idempotency-keys.js';
import type { Sql } from '../store/sql.js';
import { actorScope } from './actors.js';
import type { AppContext } from './context.js';

export interface Reply {
  status: number;
  body: unknown;
  /**
   * Top-level fields of `body` that hold a secret shown once (an API key, a
   * signing secret). The first answer carries them; the stored replay does not.
   */
  secretFields?: readonly string[];
}

/**
 * What a replay of a secret-bearing answer says instead of the secret: the
 * idempotency row is readable by anyone who reads the database, and a secret
 * kept there would be a usable credential at rest. The replay still shows the
 * resource (its id above all), so a client whose first answer was lost knows
 * the creation happened and does not create a second one.
 */
const SECRETS_WITHHELD_FIELD = 'secretsWithheld';

/** `json` is the reply's body as JSON, stored as it is when it holds no secret. */
function storedReplay(reply: Reply, json: string = JSON.stringify(reply.body)): string {
  const secrets = reply.secretFields ?? [];
  if (secrets.length === 0 || !reply.body || typeof reply.body !== 'object') return json;
  const body: Record<string, unknown> = { ...(reply.body as Record<string, unknown>) };
  for (const field of secrets) body[field] = null;
  return JSON.stringify({ ...body, [SECRETS_WITHHELD_FIELD]: [...secrets] });
}

const KEY_PATTERN = /^[\x20-\x7e]{1,255}$/;

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** Same endpoint and same JSON (key order and spacing aside) hash alike. */
export function requestHash(req: Request): string {
  return createHash('sha256')
    .update(`${req.method} ${req.baseUrl}${req.path}\n${canonicalJson(req.body ?? null)}`)
    .digest('hex');
}

/** Reads and checks the Idempotency-Key header; call before any write so a 400 stores nothing. */
export function idempotencyKey(req: Request, required: true): string;
export function idempotencyKey(req: Request, required: boolean): string | null;
export function idempotencyKey(req: Request, required: boolean): string | null {
  const key = req.get('Idempotency-Key');
  if (key === undefined) {
    if (required)
      throw new AppError('invalid_request', 'The Idempotency-Key header is required', {
        fields: { 'Idempotency-Key': 'required' },
      });
    return null;
  }
  if (!KEY_PATTERN.test(key)) {
    throw new AppError('invalid_request', 'Idempotency-Key must be 1 to 255 printable ASCII characters', {
      fields: { 'Idempotency-Key': 'invalid' },
    });
  }
  return key;
}

function send(res: Response, status: number, bodyText: string, replayed: boolean): void {
  if (replayed) res.set('Idempotent-Replayed', 'true');
  res.status(status).type('application/json').send(bodyText);
}

function scopeOf(res: Response): string {
  const actor = res.locals.actor;
  if (!actor) throw new AppError('unauthorized', 'Missing credentials');
  return actorScope(actor);
}

function replay(res: Response, key: string, hash: string, stored: StoredReply): void {
  if (stored.requestHash !== hash) {
    throw new AppError('idempotency_conflict', 'This Idempotency-Key was used with a different request', {
      idempotencyKey: key,
    });
  }
  send(res, stored.status, stored.body, true);
}

/**
 * For a write whose reply is known before it is made: `write` stores the
 * data and the key with its reply in one statement (see savePendingPurchase),
 * one round trip in all, or returns what an earlier request stored.
 */
export async function respondOnceInOneStatement(
  req: Request,
  res: Response,
  key: string,
  reply: Reply,
  write: (keyed: KeyedReply) => Promise<StoredReply | null>,
): Promise<void> {
  const scope = scopeOf(res);
  const hash = requestHash(req);
  const body = JSON.stringify(reply.body);
  const stored = await write({ scope, key, requestHash: hash, status: reply.status, body });
  if (stored) return replay(res, key, hash, stored);
  send(res, reply.status, body, false);
}

/**
 * Runs `work` and its key record in one transaction of the process's database:
 * what every keyed write but the one-statement purchase creation uses. The key
 * row is inserted first: a concurrent request with the same key waits on it,
 * then replays the stored answer byte for byte (or gets 409 if its body
 * differs), secrets withheld. When `work` throws, everything rolls back and the
 * key stays free for a retry.
 */
export async function respondOnce(
  ctx: AppContext,
  req: Request,
  res: Response,
  key: string | null,
  work: (sql: Sql) => Promise<Reply>,
): Promise<void> {
  if (key === null) {
    const reply = await ctx.database.transaction(work);
    return send(res, reply.status, JSON.stringify(reply.body), false);
  }
  const scope = scopeOf(res);
  const hash = requestHash(req);
  const outcome = await ctx.database.transaction(async (sql): Promise<{ stored: StoredReply; fresh: boolean }> => {
    const stored = await claimKey(sql, scope, key, hash);
    if (stored) return { stored, fresh: false };
    const reply = await work(sql);
    const body = JSON.stringify(reply.body);
    await saveKeyReply(sql, scope, key, reply.status, storedReplay(reply, body));
    return { stored: { requestHash: hash, status: reply.status, body }, fresh: true };
  });
  if (!outcome.fresh) return replay(res, key, hash, outcome.stored);
  send(res, outcome.stored.status, outcome.stored.body, false);
}
