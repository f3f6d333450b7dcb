import { execFileSync } from 'node:child_process';
import { cpus, loadavg, totalmem, release } from 'node:os';

export interface Machine {
  cpuModel: string;
  cores: number;
  memoryGiB: number;
  kernel: string;
  node: string;
  postgres: string;
  redis: string;
}

function firstLine(command: string, args: string[]): string {
  try {
    return execFileSync(command, args, { encoding: 'utf8' }).split('\n')[0]?.trim() ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

export function describeMachine(): Machine {
  return {
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
    cores: cpus().length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    kernel: release(),
    node: process.version,
    postgres: firstLine('psql', ['-h', '127.0.0.1', '-U', 'postgres', '-Atc', 'SHOW server_version', 'postgres']),
    redis: firstLine('redis-server', ['--version']),
  };
}

/** The commit measured, marked dirty when the tree has uncommitted changes (other engineers' work in progress). */
export function currentCommit(): string {
  const sha = firstLine('git', ['rev-parse', '--short', 'HEAD']);
  const dirty = firstLine('git', ['status', '--porcelain', '--untracked-files=no']) !== '';
  return dirty ? `${sha}+dirty` : sha;
}

/** One line naming the machine and how loaded it was, for a summary. */
export function describeMachineLine(m: Machine): string {
  const load = loadavg()
    .map((value) => value.toFixed(1))
    .join(' ');
  return `Machine: ${m.cpuModel}, ${m.cores} cores, ${m.memoryGiB} GiB, node ${m.node}, PostgreSQL ${m.postgres}; load average ${load} at the end.`;
}
