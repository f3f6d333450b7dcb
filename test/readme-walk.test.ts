import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { defaultVatRate } from '../src/domain/vat.js';
import { spawnGateway, type GatewayProcess } from './support/gateway-process.js';
import { TEST_ADMIN_API_KEY } from './support/env.js';

const readme = readFileSync(resolve(import.meta.dirname, '..', 'README.md'), 'utf8');

/** The text of the README's section headed `title`. */
function section(title: string): string {
  const start = readme.indexOf(`## ${title}\n`);
  expect(start, title).toBeGreaterThanOrEqual(0);
  const end = readme.indexOf('\n## ', start + 1);
  return readme.slice(start, end < 0 ? undefined : end);
}

/** The shell blocks of a section, in order. */
function shellBlocks(text: string): string[] {
  return [...text.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1] as string);
}

const walk = section('A purchase, step by step');

function runWalk(env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  // Anywhere but the repository, with no node_modules to lean on.
  const cwd = mkdtempSync(join(tmpdir(), 'kiosque-walk-'));
  const script = shellBlocks(walk)[0] as string;
  return new Promise((done) => {
    const child = spawn('bash', ['-euo', 'pipefail', '-c', script], {
      cwd,
      env: { PATH: process.env.PATH ?? '', HOME: cwd, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    // The walk waits for the billing run in a loop: a run that never finishes must fail the test, not hang it.
    const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('exit', (code) => {
      clearTimeout(timer);
      rmSync(cwd, { recursive: true, force: true });
      done({ code, stdout, stderr });
    });
  });
}

let gateway: GatewayProcess;
beforeAll(async () => {
  gateway = await spawnGateway({
    RUN_WORKERS: '1',
    QUEUE_PREFIX: `kq-walk-${process.pid}-${Date.now()}`,
    BILLING_SWEEP_INTERVAL_MS: '600000',
  });
}, 90_000);
afterAll(() => gateway?.stop());

describe("the README's first hour", () => {
  it('When the quick start exports an admin key, then it is one the gateway accepts and the same in both shells', () => {
    const exported = [...section('Quick start').matchAll(/^export ADMIN_API_KEY=(\S+)/gm)].map((m) => m[1]);
    expect(exported).toHaveLength(2);
    expect(new Set(exported).size).toBe(1);
    expect(loadConfig({ ADMIN_API_KEY: exported[0] }).adminApiKey).toBe(exported[0]);
  });

  it("When the walk names a port and a VAT rate, then they are the gateway's default port and the press rate", () => {
    expect(walk).toContain(`K=\${KIOSQUE_URL:-http://localhost:${loadConfig({}).port}}`);
    expect(walk).toContain('"category":"press"');
    expect(defaultVatRate('press')).toBe('0.021');
    expect(walk).toContain('2.1% (`vatRate` `0.021`)');
    expect(walk).toContain('ADMIN="Authorization: Bearer $ADMIN_API_KEY"');
  });

  it('When the walk is pasted into bash outside the repository, then each answer is a line of its own and the invoice carries 2.1% VAT', async () => {
    const { code, stdout, stderr } = await runWalk({ KIOSQUE_URL: gateway.url, ADMIN_API_KEY: TEST_ADMIN_API_KEY });
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const lines = stdout.trimEnd().split('\n');
    const [subscriber, confirmed, budget, refund, run] = lines.slice(0, 5).map((l) => JSON.parse(l) as never);
    expect(subscriber).toMatchObject({ externalRef: 'alice', role: 'holder' });
    expect(confirmed).toMatchObject({ status: 'confirmed', amount: '2.88', vatRate: '0.021', vatAmount: '0.06' });
    expect(budget).toMatchObject({ weekly: { spent: '2.88' } });
    expect(refund).toMatchObject({ object: 'refund', amount: '1.00' });
    expect(run).toMatchObject({ status: 'done', invoiceCount: 1, total: '1.88' });

    const [header, ...rows] = lines.slice(5);
    const columns = (header as string).split(',');
    const cell = (row: string, name: string) => row.split(',')[columns.indexOf(name)] as string;
    const found = rows.map((r) => [cell(r, 'amount'), cell(r, 'vat'), cell(r, 'vatRate')]).sort();
    expect(found).toEqual([
      ['-1.00', '-0.02', '0.021'],
      ['2.88', '0.06', '0.021'],
    ]);
  }, 120_000);
});
