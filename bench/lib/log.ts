const started = Date.now();

/** Progress on stderr, so a long unattended run shows where it is. */
export function progress(message: string): void {
  const elapsedS = ((Date.now() - started) / 1000).toFixed(0).padStart(4);
  process.stderr.write(`[bench ${elapsedS}s] ${message}\n`);
}

export const round = (value: number, digits = 1): number => Number(value.toFixed(digits));

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
