/**
 * BENCH_SCALE shrinks everything for a quick run (0.1 ≈ a minute); 1 is the
 * run the targets are stated for.
 */
export interface Scale {
  factor: number;
  /** Seconds of each closed-loop (saturation) measurement. */
  loadS: number;
  /** Seconds of the open-loop measurement. */
  openLoopS: number;
  subscribers: number;
  billingPurchases: number[];
  webhookEvents: number;
  connections: number;
}

export function scaleFromEnv(env: NodeJS.ProcessEnv = process.env): Scale {
  const factor = env.BENCH_SCALE ? Number(env.BENCH_SCALE) : 1;
  if (!(factor > 0 && factor <= 1)) throw new Error(`BENCH_SCALE must be in (0, 1], got "${env.BENCH_SCALE}"`);
  return {
    factor,
    loadS: Math.max(3, Math.round(15 * factor)),
    openLoopS: Math.max(5, Math.round(20 * factor)),
    subscribers: Math.round(100_000 * factor),
    // Two sizes, a tenth apart, to see whether memory grows with the number of purchases.
    billingPurchases: [Math.round(100_000 * factor), Math.round(1_000_000 * factor)],
    webhookEvents: Math.round(5_000 * factor),
    connections: 8,
  };
}
