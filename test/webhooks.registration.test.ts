import { describe, expect, it } from 'vitest';
import { admin, unique, type TestGateway } from './support/harness.js';
import { useGateway } from './support/world.js';
import { publishersNamed } from './support/rows.js';

const strict = useGateway({ webhookAllowPrivateNetworks: false });
const permissive = useGateway({ webhookAllowPrivateNetworks: true });

const register = (gw: TestGateway, webhookUrl: string, name = unique('Publisher')) =>
  gw.api().post('/v1/admin/publishers').set(admin).send({ name, category: 'press', webhookUrl });

describe('webhookUrl at publisher registration', () => {
  it.each([
    ['http://127.0.0.1:8080/hooks', 'must use https'],
    ['https://127.0.0.1/hooks', 'non-public address'],
    ['https://localhost/hooks', 'non-public address'],
    ['https://10.1.2.3/hooks', 'non-public address'],
    ['https://192.168.1.10/hooks', 'non-public address'],
    ['https://169.254.169.254/latest/meta-data', 'non-public address'],
    ['https://[::1]/hooks', 'non-public address'],
    ['https://[::ffff:127.0.0.1]/hooks', 'non-public address'],
    ['http://93.184.215.14/hooks', 'must use https'],
  ])(
    'When private networks are not allowed and the URL is %s, then registration is 400 naming webhookUrl',
    async (url, reason) => {
      const name = unique('Refused');
      const res = await register(strict, url, name);
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('invalid_request');
      expect(res.body.error.details.fields.webhookUrl).toContain(reason);
      expect(await publishersNamed(strict, name)).toBe(0);
    },
  );

  it('When the URL is https on a public address, then registration succeeds', async () => {
    const res = await register(strict, 'https://93.184.215.14/hooks');
    expect(res.status).toBe(201);
    expect(res.body.webhookUrl).toBe('https://93.184.215.14/hooks');
    expect(res.body.webhookSecret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
  });

  it('When private networks are allowed (development), then an http loopback URL is accepted', async () => {
    const res = await register(permissive, 'http://127.0.0.1:8080/hooks');
    expect(res.status).toBe(201);
  });
});
