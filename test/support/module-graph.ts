import { readFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '../..');

/** `import … from './x.js'` and `export … from './x.js'`, but not `import type`, which compiles to nothing. */
const RUNTIME_IMPORT = /^\s*(?:import|export)\s+(?!type\s)(?:[^'";]*?\sfrom\s+)?['"](\.{1,2}\/[^'"]+)['"]/gm;
const DYNAMIC_IMPORT = /\bimport\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/g;

/**
 * Every module of this repository that loading `entry` loads, as paths from
 * the repository root: relative runtime imports followed from file to file,
 * `.js` specifiers read as the `.ts` sources they compile from.
 */
export function modulesLoadedBy(entry: string): Set<string> {
  const seen = new Set<string>();
  const visit = (file: string) => {
    const path = relative(ROOT, file);
    if (seen.has(path)) return;
    seen.add(path);
    const source = readFileSync(file, 'utf8');
    for (const pattern of [RUNTIME_IMPORT, DYNAMIC_IMPORT]) {
      for (const match of source.matchAll(pattern)) {
        const specifier = match[1]!;
        visit(resolve(dirname(file), specifier.replace(/\.js$/, '.ts')));
      }
    }
  };
  visit(resolve(ROOT, entry));
  return seen;
}
