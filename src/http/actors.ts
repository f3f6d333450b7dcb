import type { VerifiedAssertion } from '../domain/assertions.js';
import type { OperatorRecord as Operator } from '../store/operators.js';
import type { PublisherProfileRecord as Publisher } from '../store/publishers.js';
import type { SubscriberRecord as Subscriber } from '../store/subscribers.js';

export type Actor =
  | { kind: 'admin' }
  | { kind: 'operator'; operator: Operator }
  | { kind: 'publisher'; publisher: Publisher }
  | { kind: 'subscriber'; subscriber: Subscriber; assertionId: string; via: 'bearer' | 'session' };

export type ActorKind = Actor['kind'];
export type ActorOf<K extends ActorKind> = Extract<Actor, { kind: K }>;

declare module 'express-serve-static-core' {
  interface Locals {
    actor?: Actor;
    /** A verified assertion whose subscriber the route finds itself (allowAssertion). */
    assertion?: VerifiedAssertion;
  }
}

/** The id that scopes idempotency keys and rate limits to one credential. */
export function actorScope(actor: Actor): string {
  switch (actor.kind) {
    case 'admin':
      return 'admin';
    case 'operator':
      return `operator:${actor.operator.id}`;
    case 'publisher':
      return `publisher:${actor.publisher.id}`;
    case 'subscriber':
      return `subscriber:${actor.subscriber.id}`;
  }
}
