import { describe, expect, it } from 'vitest';
import { publicOnlyLookup, sendWebhook } from '../../src/domain/webhook-sender.js';
import { isPublicAddress, webhookUrlProblem } from '../../src/domain/webhook-url.js';

const HEADERS = { 'webhook-id': 'msg_1', 'webhook-timestamp': '0', 'webhook-signature': 'v1,x' };

/** Each one reaches a loopback, private, link-local or metadata IPv4 address through an IPv6 spelling. */
const EMBEDDED_PRIVATE = [
  '::127.0.0.1',
  '::7f00:1',
  '::a9fe:a9fe',
  '::10.0.0.1',
  '::ffff:7f00:1',
  '::ffff:169.254.169.254',
  '::ffff:0:127.0.0.1',
  '64:ff9b::127.0.0.1',
  '64:ff9b::a9fe:a9fe',
  '64:ff9b:1::808:808',
  '2002:7f00:1::1',
  '2002:c0a8:101::1',
  '2001:0:7f00:1::',
  '2001:0:4136:e378:8000:63bf:80ff:fffe',
];

describe('IPv6 addresses that embed IPv4 are judged by the IPv4 rules', () => {
  it('When an IPv6 address embeds a non-public IPv4 address, then it is not public', () => {
    for (const address of EMBEDDED_PRIVATE) expect(isPublicAddress(address), address).toBe(false);
  });

  it('When an IPv6 address embeds only public IPv4 addresses, or none, then it is public', () => {
    for (const address of [
      '::ffff:8.8.8.8',
      '64:ff9b::808:808',
      '2002:808:808::1',
      '2606:2800:220:1:248:1893:25c8:1946',
    ]) {
      expect(isPublicAddress(address), address).toBe(true);
    }
  });

  it('When a webhook URL names such a host, then registration refuses it', async () => {
    const noDns = () => Promise.reject(new Error('an IP literal must not be resolved'));
    for (const address of EMBEDDED_PRIVATE) {
      expect(await webhookUrlProblem(`https://[${address}]/hooks`, false, noDns), address).toMatch(/non-public/);
    }
  });

  it('When a delivery targets such a host, then the send is refused before any connection', async () => {
    for (const address of ['::7f00:1', '::127.0.0.1', '64:ff9b::7f00:1', '2002:7f00:1::1']) {
      const result = await sendWebhook(`https://[${address}]:1/hooks`, '{}', HEADERS, {
        timeoutMs: 2000,
        allowPrivateNetworks: false,
      });
      expect(result, address).toMatchObject({ error: expect.stringMatching(/^refused/), durationMs: 0 });
    }
  });

  it('When the connect-time lookup answers such an address, then the connection is refused', async () => {
    for (const address of ['::7f00:1', '::ffff:a9fe:a9fe', '64:ff9b::a00:1']) {
      const error = await new Promise<NodeJS.ErrnoException | null>((resolve) =>
        publicOnlyLookup(address, { all: false }, (err) => resolve(err)),
      );
      expect(error?.code, address).toBe('EWEBHOOKPRIVATE');
    }
  });
});
