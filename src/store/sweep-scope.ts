/**
 * What a background sweep may touch. Unset in production, where one sweep
 * serves all; tests running side by side on one database name their own rows,
 * as webhook claims already do (ClaimOptions.publisherIds), so that no test
 * expires, renews, closes, bills or purges another's.
 */
export interface SweepScope {
  publisherIds?: readonly string[];
  operatorIds?: readonly string[];
  /** Idempotency scopes as actorScope writes them: `publisher:pub_…`, `operator:op_…`, `admin`. */
  idempotencyScopes?: readonly string[];
}
