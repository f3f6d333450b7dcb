/**
 * Lookups already on their way to PostgreSQL, shared by the requests that ask
 * for the same key meanwhile: a burst of a thousand requests naming one
 * subscriber, one operator or one API key then costs one query, not a thousand
 * queued for the pool (where the load shedder would refuse them, or they would
 * wait out the pool's deadline). Nothing is kept once the lookup settles, so no
 * answer is older than the request that waits on it.
 */
export class SingleFlight<V> {
  private readonly inFlight = new Map<string, Promise<V>>();

  /** `lookUp`'s answer, or the answer of the same key's lookup already under way (then `lookUp` is not called). */
  run(key: string, lookUp: () => Promise<V>): Promise<V> {
    const shared = this.inFlight.get(key);
    if (shared) return shared;
    const lookup = lookUp().finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, lookup);
    return lookup;
  }
}
