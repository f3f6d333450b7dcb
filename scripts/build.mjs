// `npm run build`: compiles to dist/ with tsc, then copies what the compiled code reads at run time
// and tsc does not emit: the SQL migrations and the pages' stylesheet(s).
import { spawnSync } from 'node:child_process';
import { cpSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import process from 'node:process';

const tsc = spawnSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
if (tsc.status !== 0) process.exit(tsc.status ?? 1);

cpSync('prisma/migrations', 'dist/prisma/migrations', { recursive: true });
for (const entry of readdirSync('src', { recursive: true, withFileTypes: true })) {
  if (!entry.isFile() || !entry.name.endsWith('.css')) continue;
  const from = join(entry.parentPath, entry.name);
  cpSync(from, join('dist', from));
}
