import { createHmac } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { describe, expect, it } from 'vitest';
import { verifyAssertion } from '../../src/domain/assertions.js';

const secret = 'operator-secret-0123456789';
const secretOf = (id: string) => Promise.resolve(id === 'op_1' ? secret : null);
const now = 1_800_000_000;
const sign = (payload: object, key = secret, options: jwt.SignOptions = {}) =>
  jwt.sign({ iss: 'op_1', sub: 'alice', aud: 'kiosque', iat: now, exp: now + 300, ...payload }, key, {
    algorithm: 'HS256',
    ...options,
  });

describe('verifyAssertion', () => {
  it('When a known operator signs a fresh HS256 assertion, then the subscriber is identified', async () => {
    expect(await verifyAssertion(sign({ jti: 'a1' }), secretOf, now)).toEqual({
      operatorId: 'op_1',
      externalRef: 'alice',
      assertionId: 'a1',
    });
  });

  it('When any claim or the signature is off, then it is refused', async () => {
    const forgeries = {
      'wrong secret': sign({}, 'not-the-secret'),
      'unknown issuer': sign({ iss: 'op_2' }),
      'wrong audience': sign({ aud: 'someone-else' }),
      expired: sign({ exp: now - 60 }),
      'no exp': jwt.sign({ iss: 'op_1', sub: 'alice', aud: 'kiosque' }, secret, { algorithm: 'HS256' }),
      'exp more than 10 minutes ahead': sign({ exp: now + 15 * 60 }),
      'HS512 instead of HS256': sign({}, secret, { algorithm: 'HS512' }),
      'alg none': jwt.sign({ iss: 'op_1', sub: 'alice', aud: 'kiosque', exp: now + 60 }, '', { algorithm: 'none' }),
      'no subject': jwt.sign({ iss: 'op_1', aud: 'kiosque', exp: now + 60 }, secret, { algorithm: 'HS256' }),
      garbage: 'not.a.jwt',
    };
    for (const [name, token] of Object.entries(forgeries)) {
      expect(await verifyAssertion(token, secretOf, now), name).toBeNull();
    }
  });
});

/** jsonwebtoken refuses to sign a non-numeric iat, so this one is assembled by hand. */
function handSigned(payload: object): string {
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const signingInput = `${part({ alg: 'HS256', typ: 'JWT' })}.${part(payload)}`;
  return `${signingInput}.${createHmac('sha256', secret).update(signingInput).digest('base64url')}`;
}

describe('verifyAssertion and the clock: iat and nbf', () => {
  it('When iat or nbf lies beyond the 30 s clock skew in the future, then the assertion is refused', async () => {
    const futures = {
      'iat a year ahead': sign({ iat: now + 365 * 24 * 3600 }),
      'iat 31 s ahead': sign({ iat: now + 31 }),
      'nbf 31 s ahead': sign({ nbf: now + 31 }),
      'nbf a year ahead': sign({ nbf: now + 365 * 24 * 3600 }),
      'iat not a number': handSigned({ iss: 'op_1', sub: 'alice', aud: 'kiosque', iat: 'yesterday', exp: now + 300 }),
    };
    for (const [name, token] of Object.entries(futures)) {
      expect(await verifyAssertion(token, secretOf, now), name).toBeNull();
    }
  });

  it('When iat and nbf are within the skew, then the assertion is accepted', async () => {
    for (const offset of [-600, 0, 30]) {
      const token = sign({ iat: now + offset, nbf: now + offset, jti: `t${offset}` });
      expect(await verifyAssertion(token, secretOf, now), `offset ${offset}`).not.toBeNull();
    }
  });
});
