import { describe, expect, it } from 'vitest';
import { SingleFlight } from '../../src/http/single-flight.js';

/** A lookup the test settles by hand, counting how often it was started. */
function controlledLookup<V>() {
  const started: Array<{ resolve: (value: V) => void; reject: (error: Error) => void }> = [];
  const lookUp = () =>
    new Promise<V>((resolve, reject) => {
      started.push({ resolve, reject });
    });
  return { started, lookUp };
}

describe('SingleFlight', () => {
  it('When a thousand lookups of one key overlap, then one lookup runs and every caller gets its answer', async () => {
    const flight = new SingleFlight<string>();
    const { started, lookUp } = controlledLookup<string>();
    const answers = Array.from({ length: 1000 }, () => flight.run('op_1\nalice', lookUp));
    expect(started).toHaveLength(1);
    started[0]?.resolve('sub_1');
    expect(new Set(await Promise.all(answers))).toEqual(new Set(['sub_1']));
  });

  it('When lookups of two keys overlap, then each key has its own lookup and answer', async () => {
    const flight = new SingleFlight<string>();
    const { started, lookUp } = controlledLookup<string>();
    const first = flight.run('a', lookUp);
    const second = flight.run('b', lookUp);
    expect(started).toHaveLength(2);
    started[0]?.resolve('A');
    started[1]?.resolve('B');
    expect([await first, await second]).toEqual(['A', 'B']);
  });

  it('When a lookup has settled, then the next caller starts a new one: no answer is older than its request', async () => {
    const flight = new SingleFlight<number>();
    const { started, lookUp } = controlledLookup<number>();
    const before = flight.run('k', lookUp);
    started[0]?.resolve(1);
    expect(await before).toBe(1);
    const after = flight.run('k', lookUp);
    expect(started).toHaveLength(2);
    started[1]?.resolve(2);
    expect(await after).toBe(2);
  });

  it('When the shared lookup fails, then every caller gets the failure and the next caller tries again', async () => {
    const flight = new SingleFlight<string>();
    const { started, lookUp } = controlledLookup<string>();
    const callers = [flight.run('k', lookUp), flight.run('k', lookUp)];
    started[0]?.reject(new Error('Connection terminated due to connection timeout'));
    for (const caller of callers) await expect(caller).rejects.toThrow('connection timeout');
    const retry = flight.run('k', lookUp);
    expect(started).toHaveLength(2);
    started[1]?.resolve('found');
    expect(await retry).toBe('found');
  });
});
