import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ROOT } from './proc.js';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

export interface HotFunction {
  selfPercent: number;
  name: string;
}

/**
 * Self time per function in the newest main-thread profile in `dir` (node names
 * them CPU.<date>.<time>.<pid>.<thread>.<seq>; thread 0 is the main thread, the
 * others are tsx's loader): where the gateway's CPU went.
 */
export function topFunctions(dir: string, count = 15): HotFunction[] {
  const newest = readdirSync(dir)
    .filter((f) => /^CPU\.\d+\.\d+\.\d+\.0\.\d+\.cpuprofile$/.test(f))
    .sort()
    .at(-1);
  if (!newest) return [];
  const profile = JSON.parse(readFileSync(join(dir, newest), 'utf8')) as { nodes: ProfileNode[] };
  const selfHits = new Map<string, number>();
  let total = 0;
  for (const node of profile.nodes) {
    const hits = node.hitCount ?? 0;
    total += hits;
    const { functionName, url, lineNumber } = node.callFrame;
    const where = url
      ? `${relative(ROOT, url.replace(/^file:\/\//, '')).replace(/^node_modules\//, '')}:${lineNumber + 1}`
      : '';
    const key = `${functionName || '(anonymous)'} ${where}`.trim();
    selfHits.set(key, (selfHits.get(key) ?? 0) + hits);
  }
  return [...selfHits.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([name, hits]) => ({ name, selfPercent: Number(((100 * hits) / total).toFixed(1)) }));
}
