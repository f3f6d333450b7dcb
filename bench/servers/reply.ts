/**
 * The constant reply both ceiling servers send: a confirmed purchase as the API
 * returns it, so the HTTP ceiling moves the same bytes per request as Kiosque.
 */
export const CONSTANT_REPLY = JSON.stringify({
  id: 'pur_01KBENCH0000000000000000000',
  object: 'purchase',
  status: 'confirmed',
  amount: '0.01',
  currency: 'EUR',
  channel: 'isp',
  kind: 'article',
  description: 'Benchmark article',
  publisherId: 'pub_01KBENCH0000000000000000000',
  refundedAmount: '0.00',
  returnUrl: null,
  createdAt: '2026-11-25T10:00:00.000Z',
  expiresAt: '2026-11-25T10:10:00.000Z',
  confirmedAt: '2026-11-25T10:00:01.000Z',
});

/** What the load generator posts to the ceiling servers: a purchase creation body. */
export const REQUEST_BODY = JSON.stringify({
  amount: '0.01',
  currency: 'EUR',
  description: 'Benchmark article',
  channel: 'isp',
});
