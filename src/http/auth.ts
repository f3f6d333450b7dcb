import type { RequestHandler } from 'express';
import { apiKeyOwner, hashApiKey, sameSecret } from '../domain/credentials.js';
import { verifyAssertion, type VerifiedAssertion } from '../domain/assertions.js';
import { AppError } from '../domain/errors.js';
import { findAssertionSecret, findOperatorByApiKeyHash } from '../store/operators.js';
import { findPublisherByApiKeyHash } from '../store/publishers.js';
import { findSubscriberByRef, type SubscriberRecord } from '../store/subscribers.js';
import type { Actor, ActorKind, ActorOf } from './actors.js';
import { countFailedAuthentication, refuseThrottledAuthentication } from './auth-throttle.js';
import { bearer } from './bearer.js';
import type { AppContext } from './context.js';
import type { Response } from 'express';

const unauthorized = () => new AppError('unauthorized', 'Missing or invalid credentials');

/**
 * Operators' assertion secrets never change once issued (no endpoint rotates
 * them), so each process keeps them after the first lookup: one query less on
 * every subscriber request. Unknown issuers are not cached, so an operator
 * created a moment ago is found.
 */
const assertionSecrets = new Map<string, string>();

async function assertionSecretOf(ctx: AppContext, operatorId: string): Promise<string | null> {
  const cached = assertionSecrets.get(operatorId);
  if (cached !== undefined) return cached;
  const secret = await findAssertionSecret(ctx.database.sql, operatorId);
  if (secret === null) return null;
  if (assertionSecrets.size > 10_000) assertionSecrets.clear();
  assertionSecrets.set(operatorId, secret);
  return secret;
}

/**
 * Lookups of one subscriber already on their way to PostgreSQL, shared by the
 * requests that arrive meanwhile: a burst of a thousand confirmations for one
 * subscriber then costs one lookup, not a thousand queued for the pool before
 * its lane (src/http/keyed-lane.ts) could hold them. Nothing is kept once the
 * lookup answers, so no answer is older than the request that waits on it.
 */
const subscriberLookups = new Map<string, Promise<SubscriberRecord | null>>();

function lookUpSubscriber(ctx: AppContext, operatorId: string, externalRef: string): Promise<SubscriberRecord | null> {
  const key = `${operatorId}\n${externalRef}`;
  const inFlight = subscriberLookups.get(key);
  if (inFlight) return inFlight;
  const lookup = findSubscriberByRef(ctx.database.sql, operatorId, externalRef).finally(() =>
    subscriberLookups.delete(key),
  );
  subscriberLookups.set(key, lookup);
  return lookup;
}

/** Verifies an assertion and finds the provisioned subscriber it names; null when either fails. */
export async function subscriberFromAssertion(
  ctx: AppContext,
  token: string,
): Promise<{ subscriber: SubscriberRecord; assertion: VerifiedAssertion } | null> {
  const assertion = await verifyAssertion(token, (operatorId) => assertionSecretOf(ctx, operatorId));
  if (!assertion) return null;
  const subscriber = await lookUpSubscriber(ctx, assertion.operatorId, assertion.externalRef);
  return subscriber ? { subscriber, assertion } : null;
}

async function actorFromBearer(ctx: AppContext, token: string): Promise<Actor | null> {
  if (sameSecret(token, ctx.config.adminApiKey)) return { kind: 'admin' };
  const owner = apiKeyOwner(token);
  if (owner === 'operator') {
    const operator = await findOperatorByApiKeyHash(ctx.database.sql, hashApiKey(token));
    return operator ? { kind: 'operator', operator } : null;
  }
  if (owner === 'publisher') {
    const publisher = await findPublisherByApiKeyHash(ctx.database.sql, hashApiKey(token));
    return publisher ? { kind: 'publisher', publisher } : null;
  }
  const found = await subscriberFromAssertion(ctx, token);
  return found
    ? { kind: 'subscriber', subscriber: found.subscriber, assertionId: found.assertion.assertionId, via: 'bearer' }
    : null;
}

/**
 * Resolves the Bearer credential into an actor and admits only the kinds listed.
 * Any credential that does not verify is 401 and counts as a failed
 * authentication (too many of those are 429); a valid one of the wrong kind is 403.
 * The credential is checked before the failures are: someone else's mistakes
 * from a shared address never refuse a valid credential.
 */
export function allow(ctx: AppContext, ...kinds: ActorKind[]): RequestHandler {
  return async (req, res, next) => {
    const token = bearer(req);
    const actor = token ? await actorFromBearer(ctx, token) : null;
    if (!actor) {
      await refuseThrottledAuthentication(ctx, req, res, token);
      await countFailedAuthentication(ctx, req, token);
      throw unauthorized();
    }
    if (!kinds.includes(actor.kind))
      throw new AppError('forbidden', `This endpoint is not for ${actor.kind} credentials`);
    res.locals.actor = actor;
    next();
  };
}

export function actorOf<K extends ActorKind>(res: Response, ...kinds: K[]): ActorOf<K> {
  const actor = res.locals.actor;
  if (!actor || !(kinds as ActorKind[]).includes(actor.kind)) throw unauthorized();
  return actor as ActorOf<K>;
}
