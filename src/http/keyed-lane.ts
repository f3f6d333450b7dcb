import type { SubscriberRef } from '../domain/subscribers.js';
import { AppError } from '../domain/errors.js';

/**
 * Runs tasks one at a time per key, in arrival order, within this process: admission control in front of the
 * store, so it lives with HTTP and answers 429 rate_limited when a lane is full.
 *
 * Correctness never depends on it: PostgreSQL row locks serialize a subscriber's
 * authorizations across processes. It exists so that a burst for one hot
 * subscriber waits here, holding nothing, instead of parking every pooled
 * connection on that subscriber's row lock and starving everyone else.
 */
export class KeyedLane {
  private readonly tails = new Map<string, { promise: Promise<unknown>; waiting: number }>();

  constructor(private readonly maxWaiting: number) {}

  async run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const lane = this.tails.get(key);
    if (lane && lane.waiting >= this.maxWaiting) {
      throw new AppError('rate_limited', 'Too many confirmations in flight for this subscriber; retry shortly', {
        inFlight: lane.waiting,
      });
    }
    const previous = lane?.promise ?? Promise.resolve();
    const entry = lane ?? { promise: previous, waiting: 0 };
    entry.waiting += 1;
    // `previous` never rejects (it is always a settled marker), so `task` runs after it either way.
    const result = previous.then(task);
    entry.promise = result.then(
      () => undefined,
      () => undefined,
    );
    this.tails.set(key, entry);
    try {
      return await result;
    } finally {
      entry.waiting -= 1;
      if (entry.waiting === 0 && this.tails.get(key) === entry) this.tails.delete(key);
    }
  }
}

const subscriberLanes = new KeyedLane(2_000);

/**
 * Runs `task` in its subscriber's lane: one per subscriber for everything that
 * takes its row lock, named by the ref an assertion gives before any lookup.
 */
export function inSubscriberLane<T>(subscriber: SubscriberRef, task: () => Promise<T>): Promise<T> {
  return subscriberLanes.run(`${subscriber.operatorId}\n${subscriber.externalRef}`, task);
}
