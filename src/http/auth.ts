import type { RequestHandler } from 'express';
import { apiKeyOwner, hashApiKey, sameSecret } from '../domain/credentials.js';
import { verifyAssertion, type VerifiedAssertion } from '../domain/assertions.js';
import { AppError } from '../domain/errors.js';
import { findAssertionSecret, findOperatorByApiKeyHash, type OperatorRecord } from '../store/operators.js';
import { findPublisherByApiKeyHash, type PublisherProfileRecord } from '../store/publishers.js';
import { findSubscriberByRef, type SubscriberRecord } from '../store/subscribers.js';
import type { Actor, ActorKind, ActorOf } from './actors.js';
import { countFailedAuthentication, refuseThrottledAuthentication } from './auth-throttle.js';
import { bearer } from './bearer.js';
import { SingleFlight } from './single-flight.js';
import type { AppContext } from './context.js';
import type { Response } from 'express';

const unauthorized = () => new AppError('unauthorized', 'Missing or invalid credentials');

/**
 * Operators' assertion secrets never change once issued (no endpoint rotates
 * them), so each process keeps them after the first lookup: one query less on
 * every subscriber request. Unknown issuers are not cached, so an operator
 * created a moment ago is found. Until the first lookup answers, requests that
 * need the same secret share it: a cold gateway hit by a burst sends one query.
 */
const assertionSecrets = new Map<string, string>();

/**
 * Credentials' lookups shared while under way (single-flight.ts), so a burst on one of them costs one query;
 * one set per gateway, since each gateway has its own database.
 */
interface CredentialLookups {
  secrets: SingleFlight<string | null>;
  subscribers: SingleFlight<SubscriberRecord | null>;
  operators: SingleFlight<OperatorRecord | null>;
  publishers: SingleFlight<PublisherProfileRecord | null>;
}

const lookupsByGateway = new WeakMap<AppContext, CredentialLookups>();

function lookupsOf(ctx: AppContext): CredentialLookups {
  let lookups = lookupsByGateway.get(ctx);
  if (!lookups) {
    lookups = {
      secrets: new SingleFlight(),
      subscribers: new SingleFlight(),
      operators: new SingleFlight(),
      publishers: new SingleFlight(),
    };
    lookupsByGateway.set(ctx, lookups);
  }
  return lookups;
}

async function assertionSecretOf(ctx: AppContext, operatorId: string): Promise<string | null> {
  const cached = assertionSecrets.get(operatorId);
  if (cached !== undefined) return cached;
  return lookupsOf(ctx).secrets.run(operatorId, async () => {
    const secret = await findAssertionSecret(ctx.database.sql, operatorId);
    if (secret === null) return null;
    if (assertionSecrets.size > 10_000) assertionSecrets.clear();
    assertionSecrets.set(operatorId, secret);
    return secret;
  });
}

/** Verifies an assertion and finds the provisioned subscriber it names; null when either fails. */
export async function subscriberFromAssertion(
  ctx: AppContext,
  token: string,
): Promise<{ subscriber: SubscriberRecord; assertion: VerifiedAssertion } | null> {
  const assertion = await verifyAssertion(token, (operatorId) => assertionSecretOf(ctx, operatorId));
  if (!assertion) return null;
  const { operatorId, externalRef } = assertion;
  const subscriber = await lookupsOf(ctx).subscribers.run(`${operatorId}\n${externalRef}`, () =>
    findSubscriberByRef(ctx.database.sql, operatorId, externalRef),
  );
  return subscriber ? { subscriber, assertion } : null;
}

async function actorFromBearer(ctx: AppContext, token: string): Promise<Actor | null> {
  if (sameSecret(token, ctx.config.adminApiKey)) return { kind: 'admin' };
  const owner = apiKeyOwner(token);
  if (owner === 'operator') {
    const hash = hashApiKey(token);
    const operator = await lookupsOf(ctx).operators.run(hash, () => findOperatorByApiKeyHash(ctx.database.sql, hash));
    return operator ? { kind: 'operator', operator } : null;
  }
  if (owner === 'publisher') {
    const hash = hashApiKey(token);
    const publisher = await lookupsOf(ctx).publishers.run(hash, () =>
      findPublisherByApiKeyHash(ctx.database.sql, hash),
    );
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
