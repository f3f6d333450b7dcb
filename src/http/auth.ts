import type { RequestHandler } from 'express';
import { apiKeyOwner, hashApiKey, sameSecret } from '../domain/credentials.js';
import { verifyAssertion, type VerifiedAssertion } from '../domain/assertions.js';
import { AppError, unauthorized } from '../domain/errors.js';
import { findAssertionSecret, findOperatorByApiKeyHash, type OperatorRecord } from '../store/operators.js';
import { findPublisherByApiKeyHash, type PublisherProfileRecord } from '../store/publishers.js';
import { findSubscriberByRef, type SubscriberRecord } from '../store/subscribers.js';
import type { Actor, ActorKind, ActorOf } from './actors.js';
import { countFailedAuthentication, refuseThrottledAuthentication } from './auth-throttle.js';
import { bearer } from './bearer.js';
import { SingleFlight } from './single-flight.js';
import type { AppContext } from './context.js';
import type { Request, Response } from 'express';

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

/** The subscriber an operator provisioned under the ref a verified assertion names; null when there is none. */
function provisionedSubscriber(ctx: AppContext, assertion: VerifiedAssertion): Promise<SubscriberRecord | null> {
  const { operatorId, externalRef } = assertion;
  return lookupsOf(ctx).subscribers.run(`${operatorId}\n${externalRef}`, () =>
    findSubscriberByRef(ctx.database.sql, operatorId, externalRef),
  );
}

/** Verifies an assertion and finds the provisioned subscriber it names; null when either fails. */
export async function subscriberFromAssertion(
  ctx: AppContext,
  token: string,
): Promise<{ subscriber: SubscriberRecord; assertion: VerifiedAssertion } | null> {
  const assertion = await verifyAssertion(token, (operatorId) => assertionSecretOf(ctx, operatorId));
  if (!assertion) return null;
  const subscriber = await provisionedSubscriber(ctx, assertion);
  return subscriber ? { subscriber, assertion } : null;
}

/** Neither the admin key nor an operator's or publisher's API key: what is left can only be an assertion. */
function mayBeAssertion(ctx: AppContext, token: string): boolean {
  return !sameSecret(token, ctx.config.adminApiKey) && apiKeyOwner(token) === null;
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
 * Refuses a credential that authenticates nobody: 429 when its address or the
 * credential itself failed too often, else 401, and the failure is counted.
 * The credential is checked before the failures are: someone else's mistakes
 * from a shared address never refuse a valid credential.
 */
async function refuse(ctx: AppContext, req: Request, res: Response, token: string | null): Promise<never> {
  await refuseThrottledAuthentication(ctx, req, res, token);
  await countFailedAuthentication(ctx, req, token);
  throw unauthorized();
}

/**
 * Resolves the Bearer credential into an actor and admits only the kinds listed.
 * Any credential that does not verify is refused (refuse); a valid one of the
 * wrong kind is 403.
 */
export function allow(ctx: AppContext, ...kinds: ActorKind[]): RequestHandler {
  return async (req, res, next) => {
    const token = bearer(req);
    const actor = token ? await actorFromBearer(ctx, token) : null;
    if (!actor) return refuse(ctx, req, res, token);
    if (!kinds.includes(actor.kind))
      throw new AppError('forbidden', `This endpoint is not for ${actor.kind} credentials`);
    res.locals.actor = actor;
    next();
  };
}

/**
 * For a route whose first statement finds the subscriber by the ref its
 * assertion names, one round trip less than allow's lookup: verifies the
 * assertion and hands it to the route (assertionOf). Any other credential is
 * judged as allow(ctx, 'subscriber') judges it. A ref no subscriber answers to
 * is refused by the route (asAssertedSubscriber) as allow would have.
 */
export function allowAssertion(ctx: AppContext): RequestHandler {
  const subscribersOnly = allow(ctx, 'subscriber');
  return async (req, res, next) => {
    const token = bearer(req);
    const assertion =
      token && mayBeAssertion(ctx, token)
        ? await verifyAssertion(token, (operatorId) => assertionSecretOf(ctx, operatorId))
        : null;
    if (!assertion) return subscribersOnly(req, res, next);
    res.locals.assertion = assertion;
    next();
  };
}

export function assertionOf(res: Response): VerifiedAssertion {
  const { assertion } = res.locals;
  if (!assertion) throw unauthorized();
  return assertion;
}

/**
 * Runs `work`, whose statement finds the subscriber an admitted assertion
 * names; when it finds none and says so (unauthorized), refuses as allow would
 * have, the failure counted.
 */
export async function asAssertedSubscriber<T>(
  ctx: AppContext,
  req: Request,
  res: Response,
  work: () => Promise<T>,
): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof AppError && error.code === 'unauthorized') return refuse(ctx, req, res, bearer(req));
    throw error;
  }
}

/**
 * Makes the subscriber an admitted assertion names the request's actor, for a
 * route that needs its id before its first statement (a keyed request's
 * scope); refused as allow would when there is none.
 */
export async function admitAssertedSubscriber(ctx: AppContext, req: Request, res: Response): Promise<void> {
  const assertion = assertionOf(res);
  const subscriber = await provisionedSubscriber(ctx, assertion);
  if (!subscriber) return refuse(ctx, req, res, bearer(req));
  res.locals.actor = { kind: 'subscriber', subscriber, assertionId: assertion.assertionId, via: 'bearer' };
}

export function actorOf<K extends ActorKind>(res: Response, ...kinds: K[]): ActorOf<K> {
  const actor = res.locals.actor;
  if (!actor || !(kinds as ActorKind[]).includes(actor.kind)) throw unauthorized();
  return actor as ActorOf<K>;
}
