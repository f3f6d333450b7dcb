import { round } from './log.js';

/** What held the gateway's event loop up while a measurement ran: where tail latency can come from. */
export interface GatewayPauses {
  /** The event loop's delay as prom-client's monitor saw it (10 ms resolution): p99 and worst. */
  eventLoopP99Ms: number;
  eventLoopMaxMs: number;
  /** Garbage collection pauses, all kinds: their count and their total. */
  gcCount: number;
  gcMs: number;
}

/** The gateway's /metrics as name (with labels) → value. */
async function scrape(origin: string): Promise<Map<string, number>> {
  const text = await (await fetch(`${origin}/metrics`)).text();
  const values = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || !line.trim()) continue;
    const at = line.lastIndexOf(' ');
    values.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return values;
}

function gcTotals(metrics: Map<string, number>): { count: number; seconds: number } {
  let count = 0;
  let seconds = 0;
  for (const [name, value] of metrics) {
    if (name.startsWith('nodejs_gc_duration_seconds_count')) count += value;
    if (name.startsWith('nodejs_gc_duration_seconds_sum')) seconds += value;
  }
  return { count, seconds };
}

/**
 * Runs `work` between two scrapes of the gateway's /metrics. prom-client
 * resets its event-loop histogram at every scrape, so the second one covers
 * `work` alone; GC totals are cumulative and are subtracted.
 */
export async function pausesDuring<T>(
  origin: string,
  work: () => Promise<T>,
): Promise<{ result: T; pauses: GatewayPauses }> {
  const before = await scrape(origin);
  const result = await work();
  const after = await scrape(origin);
  const gcBefore = gcTotals(before);
  const gcAfter = gcTotals(after);
  return {
    result,
    pauses: {
      eventLoopP99Ms: round((after.get('nodejs_eventloop_lag_p99_seconds') ?? Number.NaN) * 1000, 1),
      eventLoopMaxMs: round((after.get('nodejs_eventloop_lag_max_seconds') ?? Number.NaN) * 1000, 1),
      gcCount: gcAfter.count - gcBefore.count,
      gcMs: round((gcAfter.seconds - gcBefore.seconds) * 1000, 1),
    },
  };
}
