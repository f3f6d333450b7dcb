import { describe, expect, it } from 'vitest';
import { isPublicAddress, webhookUrlProblem } from '../../src/domain/webhook-url.js';

describe('webhook URL safety', () => {
  it('When an address is loopback, private, link-local, metadata or mapped, then it is not public', () => {
    for (const address of [
      '127.0.0.1',
      '10.1.2.3',
      '172.16.0.1',
      '192.168.1.1',
      '169.254.169.254',
      '100.64.0.1',
      '0.0.0.0',
      '::1',
      'fe80::1',
      'fc00::1',
      '::ffff:127.0.0.1',
    ]) {
      expect(isPublicAddress(address), address).toBe(false);
    }
    expect(isPublicAddress('93.184.216.34')).toBe(true);
    expect(isPublicAddress('2606:2800:220:1:248:1893:25c8:1946')).toBe(true);
  });

  it('When a host resolves to a private address, then the URL is refused unless private networks are allowed', async () => {
    const resolver = () => Promise.resolve(['10.0.0.5']);
    expect(await webhookUrlProblem('https://hooks.example.com/k', false, resolver)).toMatch(/non-public/);
    expect(await webhookUrlProblem('https://hooks.example.com/k', true, resolver)).toBeNull();
  });

  it('When a URL uses http, then it is refused in production settings', async () => {
    expect(await webhookUrlProblem('http://hooks.example.com/k', false, () => Promise.resolve(['93.184.216.34']))).toBe(
      'must use https',
    );
    expect(
      await webhookUrlProblem('https://hooks.example.com/k', false, () => Promise.resolve(['93.184.216.34'])),
    ).toBeNull();
  });

  it('When one of several resolved addresses is private, then the URL is refused (DNS rebinding)', async () => {
    expect(
      await webhookUrlProblem('https://x.example/k', false, () => Promise.resolve(['93.184.216.34', '127.0.0.1'])),
    ).toMatch(/non-public/);
  });
});
