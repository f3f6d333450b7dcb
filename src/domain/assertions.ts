import { createSecretKey } from 'node:crypto';
import jwt from 'jsonwebtoken';

export const ASSERTION_AUDIENCE = 'kiosque';
/** docs/authentication.md: an operator's assertion expires at most 10 minutes ahead. */
export const ASSERTION_MAX_LIFETIME_S = 600;
/** Clock skew forgiven between an operator's clock and ours. */
export const CLOCK_SKEW_S = 30;

export interface VerifiedAssertion {
  operatorId: string;
  externalRef: string;
  /** The assertion's `jti` when present, else a hash-free marker of its iat/exp; kept as consent evidence. */
  assertionId: string;
}

/**
 * Verifies an operator-signed subscriber assertion: HS256 only, `iss` a known
 * operator whose secret signed it, `aud` kiosque, `exp` present and no more than
 * 10 minutes ahead, `iat` and `nbf` (when present) no later than now plus the
 * clock skew: a token minted "in the future" would outlive the 10-minute bound.
 * Returns null on any failure; callers answer 401 without detail.
 */
export async function verifyAssertion(
  token: string,
  secretOf: (operatorId: string) => Promise<string | null>,
  nowS: number = Math.floor(Date.now() / 1000),
): Promise<VerifiedAssertion | null> {
  const decoded = jwt.decode(token, { complete: true });
  if (!decoded || typeof decoded.payload !== 'object' || decoded.header.alg !== 'HS256') return null;
  const { iss, sub, exp, iat, nbf } = decoded.payload;
  if (typeof iss !== 'string' || typeof sub !== 'string' || sub === '' || typeof exp !== 'number') return null;
  if (exp > nowS + ASSERTION_MAX_LIFETIME_S + CLOCK_SKEW_S) return null;
  for (const claim of [iat, nbf]) {
    if (claim !== undefined && (typeof claim !== 'number' || !Number.isFinite(claim) || claim > nowS + CLOCK_SKEW_S))
      return null;
  }
  const secret = await secretOf(iss);
  if (secret === null) return null;
  try {
    // A KeyObject, not the string: given a string, jsonwebtoken first tries it as a
    // public key and throws, which cost ~6% of the gateway's CPU in the benchmark profile.
    const payload = jwt.verify(token, createSecretKey(Buffer.from(secret)), {
      algorithms: ['HS256'],
      audience: ASSERTION_AUDIENCE,
      issuer: iss,
      clockTimestamp: nowS,
      clockTolerance: CLOCK_SKEW_S,
    });
    if (typeof payload !== 'object') return null;
    const assertionId = typeof payload.jti === 'string' ? payload.jti : `iat:${payload.iat ?? 'none'}:exp:${exp}`;
    return { operatorId: iss, externalRef: sub, assertionId };
  } catch {
    return null;
  }
}
