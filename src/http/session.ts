import { createHmac } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { sameSecret } from '../domain/credentials.js';

export const SESSION_COOKIE = 'kiosque_session';
export const SESSION_TTL_S = 30 * 60;

export interface Session {
  subscriberId: string;
  assertionId: string;
}

export function signSession(session: Session, secret: string): string {
  return jwt.sign({ jti: session.assertionId }, secret, {
    algorithm: 'HS256',
    subject: session.subscriberId,
    audience: 'kiosque-session',
    expiresIn: SESSION_TTL_S,
  });
}

export function readSession(token: string, secret: string): Session | null {
  try {
    const payload = jwt.verify(token, secret, { algorithms: ['HS256'], audience: 'kiosque-session' });
    if (typeof payload !== 'object' || typeof payload.sub !== 'string' || typeof payload.jti !== 'string') return null;
    return { subscriberId: payload.sub, assertionId: payload.jti };
  } catch {
    return null;
  }
}

/** A CSRF token bound to one session and one consent: useless on any other page. */
export function csrfToken(session: Session, consentId: string, secret: string): string {
  return createHmac('sha256', secret)
    .update(`csrf:${session.subscriberId}:${session.assertionId}:${consentId}`)
    .digest('base64url');
}

export function validCsrfToken(given: unknown, session: Session, consentId: string, secret: string): boolean {
  return typeof given === 'string' && sameSecret(given, csrfToken(session, consentId, secret));
}
