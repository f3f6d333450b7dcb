import { describe, expect, it } from 'vitest';
import { admin, unique } from './support/harness.js';
import { publishersNamed } from './support/rows.js';
import { useGateway } from './support/world.js';

const gw = useGateway();

describe('publisher profile at creation', () => {
  it('When a publisher is created with a legal name and a support URL, then both are answered back', async () => {
    const res = await gw
      .api()
      .post('/v1/admin/publishers')
      .set(admin)
      .send({
        name: unique('Gazette'),
        category: 'press',
        legalName: 'La Gazette SAS',
        supportUrl: 'https://gazette.example/aide',
      });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ legalName: 'La Gazette SAS', supportUrl: 'https://gazette.example/aide' });
  });

  it('When the support URL is not https, then it is 400 naming supportUrl and no publisher is made', async () => {
    const name = unique('Gazette');
    const res = await gw
      .api()
      .post('/v1/admin/publishers')
      .set(admin)
      .send({ name, category: 'press', supportUrl: 'http://gazette.example' });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('invalid_request');
    expect(JSON.stringify(res.body.error.details)).toContain('supportUrl');
    expect(await publishersNamed(gw, name)).toBe(0);
  });
});
