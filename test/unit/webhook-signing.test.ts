import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { newWebhookSecret } from '../../src/domain/credentials.js';
import { webhookHeaders, webhookKey, webhookSignature } from '../../src/domain/webhook-signing.js';

describe('Standard Webhooks signing', () => {
  it('When a delivery is signed, then the reference standardwebhooks library verifies it with the publisher secret', () => {
    const secret = newWebhookSecret();
    const body = JSON.stringify({
      id: 'evt_1',
      type: 'purchase.confirmed',
      createdAt: '2026-11-25T10:00:00.000Z',
      data: { amount: '2.88' },
    });
    const headers = webhookHeaders(secret, 'evt_1', body, new Date());
    expect(new Webhook(secret).verify(body, { ...headers })).toEqual(JSON.parse(body));
  });

  it('When the body is altered after signing, then verification fails', () => {
    const secret = newWebhookSecret();
    const headers = webhookHeaders(secret, 'evt_2', '{"amount":"2.88"}', new Date());
    expect(() => new Webhook(secret).verify('{"amount":"28.80"}', { ...headers })).toThrow();
  });

  it('When signing the example of the Standard Webhooks specification, then the signature is the one it publishes', () => {
    const signature = webhookSignature(
      'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
      'msg_p5jXN8AQM9LWM0D4loKWxJek',
      1614265330,
      '{"test": 2432232314}',
    );
    expect(signature).toBe('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
  });

  it('When headers are built, then the timestamp is the send time in unix seconds and the id is the event id', () => {
    const headers = webhookHeaders(newWebhookSecret(), 'evt_3', '{}', new Date('2026-11-25T10:00:00.900Z'));
    expect(headers['webhook-id']).toBe('evt_3');
    expect(headers['webhook-timestamp']).toBe(String(Date.parse('2026-11-25T10:00:00Z') / 1000));
    expect(headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
  });

  it('When the secret lacks the whsec_ prefix, then it is refused rather than used as a key', () => {
    expect(() => webhookKey('MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw')).toThrow(/whsec_/);
  });
});
