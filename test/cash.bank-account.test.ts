import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { maskIban, parseIban } from '../src/domain/bank-accounts.js';
import { bearer, createOperator, createPublisher } from './support/harness.js';
import { storedBankAccount } from './support/rows.js';
import { useGateway } from './support/world.js';

const gw = useGateway();

const put = (apiKey: string, body: unknown) =>
  gw
    .api()
    .put('/v1/publisher/bank-account')
    .set(bearer(apiKey))
    .send(body as object);

describe('Bank accounts', () => {
  it('When a publisher registers a valid IBAN, then it is answered masked but for its last 4 characters, and replaced by the next', async () => {
    const publisher = await createPublisher(gw);
    const res = await put(publisher.apiKey, {
      iban: 'fr76 3000 6000 0112 3456 7890 189',
      bic: 'agrifrpp',
      holderName: 'Le Journal SARL',
    });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ iban: '***********************0189', bic: 'AGRIFRPP', holderName: 'Le Journal SARL' });
    expect(res.text).not.toMatch(/30006|7630/);
    expect((await storedBankAccount(gw, publisher.id))?.iban).toBe('FR7630006000011234567890189');

    const german = await put(publisher.apiKey, { iban: 'DE89370400440532013000', holderName: 'Le Journal SARL' });
    expect(german.body).toEqual({ iban: '******************3000', bic: null, holderName: 'Le Journal SARL' });
    expect((await gw.api().get('/v1/publisher/bank-account').set(bearer(publisher.apiKey))).body.iban).toBe(
      '******************3000',
    );
  });

  it.each([
    ['a wrong check digit', 'FR7630006000011234567890188'],
    ['a wrong length for France', 'FR763000600001123456789018'],
    ['letters where Germany has digits', 'DE89370400440532O13000'],
    ['an unknown country', 'XX89370400440532013000'],
    ['no IBAN at all', 'hello'],
  ])('When the IBAN has %s, then it is a 400 naming iban and nothing is stored', async (_why, iban) => {
    const publisher = await createPublisher(gw);
    const res = await put(publisher.apiKey, { iban, holderName: 'Someone' });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('invalid_request');
    expect(Object.keys(res.body.error.details.fields)).toEqual(['iban']);
    expect(await storedBankAccount(gw, publisher.id)).toBeNull();
  });

  it('When the holder name or BIC is bad, or an operator calls, then it is refused', async () => {
    const publisher = await createPublisher(gw);
    const noName = await put(publisher.apiKey, { iban: 'DE89370400440532013000', holderName: ' ' });
    expect(noName.status).toBe(400);
    expect(noName.body.error.details.fields).toHaveProperty('holderName');
    const badBic = await put(publisher.apiKey, { iban: 'DE89370400440532013000', bic: '12345678', holderName: 'A' });
    expect(badBic.body.error.details.fields).toHaveProperty('bic');
    const op = await createOperator(gw);
    expect((await put(op.apiKey, { iban: 'DE89370400440532013000', holderName: 'A' })).status).toBe(403);
    expect((await gw.api().get('/v1/publisher/bank-account').set(bearer(publisher.apiKey))).status).toBe(404);
  });

  it("When Kiosque's own account is configured, then it is read from the environment, checked, with development defaults", () => {
    expect(loadConfig({}).kiosqueAccount).toEqual({
      iban: 'FR7630006000011234567890189',
      bic: 'AGRIFRPP',
      legalName: 'Kiosque SAS',
    });
    expect(
      loadConfig({
        KIOSQUE_IBAN: 'DE89 3704 0044 0532 0130 00',
        KIOSQUE_BIC: 'COBADEFFXXX',
        KIOSQUE_LEGAL_NAME: 'K GmbH',
      }).kiosqueAccount,
    ).toEqual({ iban: 'DE89370400440532013000', bic: 'COBADEFFXXX', legalName: 'K GmbH' });
    expect(() => loadConfig({ KIOSQUE_IBAN: 'DE89370400440532013001' })).toThrow(/KIOSQUE_IBAN/);
    expect(maskIban(parseIban('NL91ABNA0417164300'))).toBe('**************4300');
  });
});
