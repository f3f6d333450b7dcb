import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnGateway, type GatewayProcess } from './support/gateway-process.js';
import { TEST_ADMIN_API_KEY } from './support/env.js';

let gateway: GatewayProcess;

beforeAll(async () => {
  // Workers on, under their own queue prefix, so the demo's billing run completes.
  gateway = await spawnGateway({
    RUN_WORKERS: '1',
    QUEUE_PREFIX: `kq-demo-${process.pid}-${Date.now()}`,
    WEBHOOK_ALLOW_PRIVATE_NETWORKS: '1',
    BILLING_SWEEP_INTERVAL_MS: '600000',
  });
}, 90_000);
afterAll(() => gateway?.stop());

function runDemo(env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn('npm', ['run', '--silent', 'demo'], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('npm run demo', () => {
  it('When run against a started gateway, then it walks every step, prints the URLs to open and exits 0', async () => {
    const { code, stdout, stderr } = await runDemo({ KIOSQUE_URL: gateway.url, ADMIN_API_KEY: TEST_ADMIN_API_KEY });
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const steps = [...stdout.matchAll(/^==> (.*)$/gm)].map((m) => m[1]);
    expect(steps).toHaveLength(11);
    expect(stdout).toContain('6.00 declined: weekly_ceiling');
    expect(stdout).toContain('child declined: category_blocked');
    expect(stdout).toMatch(/run: \{"id":"[^"]+","status":"done","invoiceCount":1,"total":"15.38"\}/);
    expect(stdout).toMatch(/La Gazette: \{"gross":"14.88",.*"refunds":"1.00"/);
    const urls = [...stdout.matchAll(/: (http\S+)$/gm)].map((m) => new URL(m[1] as string));
    const opened = urls.map((u) => u.pathname.replace(/\/pur_\w+$/, '/:id'));
    expect(opened).toEqual(['/consent/purchases/:id', '/me', '/me/children', '/me', '/docs', '/openapi.json']);
    for (const url of urls.filter((u) => u.searchParams.has('assertion'))) {
      // Each page the demo promises opens: the assertion is traded for a session, then the page is served.
      const first = await fetch(url, { redirect: 'manual' });
      expect(first.status, url.pathname).toBe(303);
      const cookie = (first.headers.get('set-cookie') ?? '').split(';')[0] as string;
      const page = await fetch(new URL(first.headers.get('location') as string, url), { headers: { cookie } });
      expect(page.status, url.pathname).toBe(200);
      expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    }
    expect(stdout).toContain(`${gateway.url}/docs`);
    expect(stdout.trimEnd().endsWith('Demo complete.')).toBe(true);
  }, 120_000);

  it('When the admin key is wrong, then it says which call failed and exits 1', async () => {
    const { code, stderr } = await runDemo({ KIOSQUE_URL: gateway.url, ADMIN_API_KEY: 'not-the-key' });
    expect(code).toBe(1);
    expect(stderr).toMatch(/Demo failed: POST \/v1\/admin\/operators answered 401/);
  }, 60_000);
});
