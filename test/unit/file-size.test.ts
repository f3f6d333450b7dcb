import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
const MAX_LINES = 500;

/** Production sources: what `npm start` and `npm run workers` run, less the code Prisma generates. */
function productionFiles(): string[] {
  return ['src', 'workers'].flatMap((dir) =>
    readdirSync(join(ROOT, dir), { recursive: true, withFileTypes: true })
      .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
      .map((entry) => relative(ROOT, join(entry.parentPath, entry.name)))
      .filter((path) => !path.startsWith('src/generated/')),
  );
}

describe('Small modules, one job each', () => {
  it(`When any production file is read, then it has at most ${MAX_LINES} lines`, () => {
    const files = productionFiles();
    expect(files).toContain('src/main.ts');
    const long = files
      .map((path) => ({ path, lines: readFileSync(join(ROOT, path), 'utf8').split('\n').length - 1 }))
      .filter((file) => file.lines > MAX_LINES);
    expect(long).toEqual([]);
  });
});
