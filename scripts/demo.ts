/**
 * `npm run demo`: a guided walk through Kiosque against a running gateway
 * (KIOSQUE_URL, default http://localhost:3000, with ADMIN_API_KEY): an
 * operator, two publishers, a household with a child, then a purchase, a
 * ceiling decline, a parental block, a refund, a billing run, an outcome and
 * the settlement. Every step is printed; it exits non-zero on the first
 * answer that is not the one expected.
 */
import { randomUUID } from 'node:crypto';
import jwt from 'jsonwebtoken';

const base = (process.env.KIOSQUE_URL ?? 'http://localhost:3000').replace(/\/+$/, '');
const adminKey = process.env.ADMIN_API_KEY;
const run = randomUUID().slice(0, 8);

type Json = Record<string, unknown>;

class DemoError extends Error {}

function step(title: string): void {
  console.log(`\n==> ${title}`);
}

function show(label: string, value: unknown): void {
  console.log(`    ${label}: ${typeof value === 'string' ? value : JSON.stringify(value)}`);
}

async function call(
  method: string,
  path: string,
  options: { token?: string | undefined; body?: unknown; idempotent?: boolean; expect: number },
): Promise<Json> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  if (options.idempotent) headers['idempotency-key'] = `demo-${run}-${randomUUID()}`;
  const res = await fetch(`${base}${path}`, {
    method,
    headers,
    ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
  });
  const text = await res.text();
  if (res.status !== options.expect) {
    throw new DemoError(`${method} ${path} answered ${res.status}, expected ${options.expect}: ${text.slice(0, 500)}`);
  }
  return text ? (JSON.parse(text) as Json) : {};
}

function mint(operator: { id: string; assertionSecret: string }, subscriberRef: string): string {
  return jwt.sign({}, operator.assertionSecret, {
    algorithm: 'HS256',
    issuer: operator.id,
    subject: subscriberRef,
    audience: 'kiosque',
    expiresIn: 600,
  });
}

async function buy(
  publisherKey: string,
  token: string,
  body: Json,
  expect: number,
): Promise<{ id: string; answer: Json }> {
  const created = await call('POST', '/v1/purchases', {
    token: publisherKey,
    idempotent: true,
    body: { currency: 'EUR', channel: 'isp', ...body },
    expect: 201,
  });
  const id = String(created.id);
  const answer = await call('POST', `/v1/purchases/${id}/confirm`, { token, expect });
  return { id, answer };
}

async function main(): Promise<void> {
  if (!adminKey)
    throw new DemoError('Set ADMIN_API_KEY to the key the gateway runs with (npm start prints a development one).');
  console.log(`Kiosque demo against ${base}`);
  await call('GET', '/healthz', { expect: 200 });

  step('The platform admin registers an operator (an ISP) with a weekly ceiling of 20.00');
  const operator = await call('POST', '/v1/admin/operators', {
    token: adminKey,
    body: {
      name: `Fibre SA ${run}`,
      brand: 'Fibre',
      limits: { perPurchase: '15.00', weekly: '20.00', monthly: '150.00' },
    },
    expect: 201,
  });
  const op = {
    id: String(operator.id),
    apiKey: String(operator.apiKey),
    assertionSecret: String(operator.assertionSecret),
  };
  show('operator', { id: op.id, limits: operator.limits });

  step('…and two publishers: a newspaper and a game studio');
  const gazette = await call('POST', '/v1/admin/publishers', {
    token: adminKey,
    body: {
      name: `La Gazette ${run}`,
      category: 'press',
      legalName: 'La Gazette SAS',
      supportUrl: 'https://gazette.example/aide',
    },
    expect: 201,
  });
  const arcade = await call('POST', '/v1/admin/publishers', {
    token: adminKey,
    body: { name: `Arcade ${run}`, category: 'games' },
    expect: 201,
  });
  const gazetteKey = String(gazette.apiKey);
  const arcadeKey = String(arcade.apiKey);
  show('publishers', [`${String(gazette.id)} (press)`, `${String(arcade.id)} (games)`]);

  step('The operator provisions a household: a holder and a child');
  const holderRef = `holder-${run}`;
  const childRef = `child-${run}`;
  await call('PUT', `/v1/operator/subscribers/${holderRef}`, {
    token: op.apiKey,
    body: { displayName: 'Alice' },
    expect: 201,
  });
  const child = await call('PUT', `/v1/operator/subscribers/${childRef}`, {
    token: op.apiKey,
    body: { holderRef, displayName: 'Leo' },
    expect: 201,
  });
  show('child', child);
  const holder = mint(op, holderRef);
  const kid = mint(op, childRef);

  step('A purchase: La Gazette sells an edition for 2.88, the holder confirms');
  const edition = await buy(gazetteKey, holder, { amount: '2.88', description: 'Edition du jour' }, 200);
  show('confirmed', { id: edition.id, status: edition.answer.status, amount: edition.answer.amount });
  const budget = await call('GET', '/v1/me/budget', { token: holder, expect: 200 });
  show('budget left this week', (budget.weekly as Json).remaining);

  step('A ceiling decline: with 14.88 spent this week, 6.00 more would pass the weekly ceiling of 20.00');
  const tooMuch = await buy(gazetteKey, holder, { amount: '12.00', description: 'Archives, un an' }, 200);
  show('12.00 confirmed', tooMuch.id);
  const declined = await buy(gazetteKey, holder, { amount: '6.00', description: 'Hors-série' }, 402);
  show('6.00 declined', (declined.answer.error as Json).code);

  step('A parental block: the child buys a game pack, then the holder blocks games');
  const pack = await buy(
    arcadeKey,
    kid,
    { amount: '1.50', description: '100 gems', kind: 'credits', credits: 100 },
    200,
  );
  show('child bought', pack.id);
  const controls = await call('PUT', `/v1/me/children/${childRef}/controls`, {
    token: holder,
    body: { blockedCategories: ['games'] },
    expect: 200,
  });
  show('controls', controls);
  const blocked = await buy(
    arcadeKey,
    kid,
    { amount: '1.50', description: '100 more gems', kind: 'credits', credits: 100 },
    402,
  );
  show('child declined', (blocked.answer.error as Json).code);

  step('A refund: La Gazette gives back 1.00 of the edition');
  const refund = await call('POST', `/v1/purchases/${edition.id}/refunds`, {
    token: gazetteKey,
    idempotent: true,
    body: { amount: '1.00' },
    expect: 201,
  });
  show('refund', { id: refund.id, amount: refund.amount });

  step('A billing run: the operator bills everything confirmed so far');
  const queued = await call('POST', '/v1/operator/billing-runs', {
    token: op.apiKey,
    idempotent: true,
    body: {},
    expect: 202,
  });
  const runId = String(queued.id);
  let billing = queued;
  for (const deadline = Date.now() + 60_000; billing.status !== 'done';) {
    if (billing.status === 'failed') throw new DemoError(`billing run ${runId} failed`);
    if (Date.now() > deadline)
      throw new DemoError(
        `billing run ${runId} is still ${String(billing.status)} after 60 s: are the workers running?`,
      );
    await new Promise((r) => setTimeout(r, 500));
    billing = await call('GET', `/v1/operator/billing-runs/${runId}`, { token: op.apiKey, expect: 200 });
  }
  show('run', { id: runId, status: billing.status, invoiceCount: billing.invoiceCount, total: billing.total });
  const invoices = (await call('GET', `/v1/operator/invoices?billingRun=${runId}`, { token: op.apiKey, expect: 200 }))
    .data as Json[];
  for (const invoice of invoices) {
    show(`invoice of ${String(invoice.subscriberRef)}`, {
      total: invoice.total,
      lines: (invoice.lines as Json[]).map((l) => `${String(l.description)} ${String(l.amount)}`),
    });
  }

  step('An outcome: the household paid its bill');
  const [invoice] = invoices;
  if (!invoice) throw new DemoError('the billing run made no invoice');
  const paid = await call('POST', `/v1/operator/invoices/${String(invoice.id)}/outcome`, {
    token: op.apiKey,
    body: { status: 'paid' },
    expect: 200,
  });
  show('invoice', { id: paid.id, status: paid.status });

  step('The settlement: what each publisher earned, net of commission and refunds');
  const settlement = await call('GET', `/v1/operator/billing-runs/${runId}/settlement`, {
    token: op.apiKey,
    expect: 200,
  });
  for (const row of settlement.data as Json[]) {
    const name = row.publisherId === gazette.id ? 'La Gazette' : 'Arcade';
    show(name, {
      gross: row.gross,
      commission: row.commission,
      refunds: row.refunds,
      chargebacks: row.chargebacks,
      net: row.net,
    });
  }

  step('Open these in a browser (French; add &lang=en for English)');
  const offer = await call('POST', '/v1/purchases', {
    token: gazetteKey,
    idempotent: true,
    body: { amount: '0.99', currency: 'EUR', channel: 'isp', description: 'Une brève' },
    expect: 201,
  });
  // Each URL carries an assertion (valid 10 minutes): the page trades it for a session cookie at once.
  show('consent page (the holder)', `${String(offer.consentUrl)}?assertion=${holder}`);
  show("subscriber space (the holder's purchases, budget, invoices)", `${base}/me?assertion=${holder}`);
  show("parent space (the child's controls and purchases)", `${base}/me/children?assertion=${holder}`);
  show("subscriber space (the child's)", `${base}/me?assertion=${kid}`);
  show('API reference', `${base}/docs`);
  show('OpenAPI document', `${base}/openapi.json`);
  console.log('\nDemo complete.');
}

main().catch((error: unknown) => {
  console.error(`\nDemo failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
