import type pg from 'pg';
import { expect } from 'vitest';
import { assertionFor, waitUntil, type Exchange, type Fixtures, type TrafficLog } from './traffic.js';

/** Whole cents from a numeric's text, exact for two decimals. */
const cents = (amount: string) => Math.round(Number(amount) * 100);
const is = (e: Exchange, method: string, pattern: RegExp, status: number) =>
  e.method === method && pattern.test(e.path) && e.status === status;
const CREATE = /^\/v1\/purchases$/;
const CONFIRM = /^\/v1\/purchases\/[^/]+\/confirm$/;
const REFUND = /^\/v1\/purchases\/[^/]+\/refunds$/;

/** No answer in the log is a 500, and every 503 says when to come back. */
export function expectNoServerErrors(log: TrafficLog): void {
  const failures = log.exchanges.filter((e) => e.status !== null && e.status >= 500 && e.status !== 503);
  expect(failures.map((e) => ({ path: e.path, status: e.status, body: e.body }))).toEqual([]);
  const bare503 = log.exchanges.filter(
    (e) =>
      e.status === 503 &&
      (e.retryAfter === null || (e.body as { error?: { code?: string } })?.error?.code !== 'service_unavailable'),
  );
  expect(bare503).toEqual([]);
}

/**
 * What the fault tests check once the dust has settled, against PostgreSQL
 * and through the API:
 * - every 2xx is durable: each created, confirmed or refunded purchase the log
 *   saw answered 2xx is in the database as answered;
 * - nothing is charged twice: one purchase per Idempotency-Key, whatever the retries;
 * - refunds never exceed the amount, and add up to what the purchase says;
 * - each subscriber's budget equals the sum of its confirmed purchases less refunds;
 * - after a billing run, each confirmed purchase is on exactly one invoice.
 */
export async function expectInvariants(
  sql: pg.Pool,
  log: TrafficLog,
  fixtures: Fixtures,
  target: string,
): Promise<void> {
  await log.flush();
  const purchases = new Map(
    (
      await sql.query<{
        id: string;
        amount: string;
        status: string;
        subscriber_ref: string | null;
        refunded: string;
        refund_sum: string;
      }>(
        `SELECT p.id, p.amount::text, p.status, s.external_ref AS subscriber_ref, p.refunded_amount::text AS refunded,
                COALESCE((SELECT SUM(r.amount) FROM refunds r WHERE r.purchase_id = p.id), 0)::text AS refund_sum
         FROM purchases p LEFT JOIN subscribers s ON s.id = p.subscriber_id WHERE p.publisher_id = $1`,
        [fixtures.publisher.id],
      )
    ).rows.map((row) => [row.id, row]),
  );

  // Every 2xx is durable.
  const idsByKey = new Map<string, Set<string>>();
  for (const e of log.exchanges) {
    if (is(e, 'POST', CREATE, 201)) {
      const body = e.body as { id: string; amount: string };
      expect(purchases.get(body.id)?.amount, `purchase ${body.id} answered 201`).toBe(body.amount);
      idsByKey.set(e.key as string, (idsByKey.get(e.key as string) ?? new Set()).add(body.id));
    }
    if (is(e, 'POST', CONFIRM, 200)) {
      const body = e.body as { id: string };
      expect(['confirmed', 'refunded', 'disputed'], `purchase ${body.id} answered 200 confirmed`).toContain(
        purchases.get(body.id)?.status,
      );
    }
  }
  const refundIds = log.exchanges.filter((e) => is(e, 'POST', REFUND, 201)).map((e) => (e.body as { id: string }).id);
  const storedRefunds = (await sql.query<{ id: string }>('SELECT id FROM refunds WHERE id = ANY($1)', [refundIds]))
    .rows;
  expect(storedRefunds).toHaveLength(new Set(refundIds).size);

  // Nothing charged twice: a key names one purchase, and no purchase exists that no key made.
  for (const [key, ids] of idsByKey) expect(ids.size, `purchases answered for key ${key}`).toBe(1);
  const keyed = await sql.query<{ id: string; keys: number }>(
    `SELECT p.id, (SELECT count(*)::int FROM idempotency_keys k
                   WHERE k.scope = $2 AND k.response_status = 201 AND k.response_body LIKE '%"id":"' || p.id || '"%'
                     AND k.key LIKE 'purchase-%') AS keys
     FROM purchases p WHERE p.publisher_id = $1`,
    [fixtures.publisher.id, `publisher:${fixtures.publisher.id}`],
  );
  expect(keyed.rows.filter((r) => r.keys !== 1)).toEqual([]);

  // Refunds never above the amount, and the purchase's refunded amount is their sum.
  for (const p of purchases.values()) {
    expect(cents(p.refund_sum) <= cents(p.amount), `refunds of ${p.id}`).toBe(true);
    expect(cents(p.refund_sum), `refunded amount of ${p.id}`).toBe(cents(p.refunded));
  }

  // Budgets equal the sum of confirmed purchases less refunds.
  for (const ref of fixtures.subscribers) {
    const expected = [...purchases.values()]
      .filter((p) => p.subscriber_ref === ref && ['confirmed', 'refunded', 'disputed'].includes(p.status))
      .reduce((sum, p) => sum + cents(p.amount) - cents(p.refunded), 0);
    const budget = await log.send(target, 'GET', '/v1/me/budget', { token: assertionFor(fixtures.operator, ref) });
    expect(budget.status).toBe(200);
    expect({ ref, spent: (budget.body as { monthly: { spent: string } }).monthly.spent }).toEqual({
      ref,
      spent: (expected / 100).toFixed(2),
    });
  }

  await expectEachOnOneInvoice(sql, log, fixtures, target);
}

/** Bills everything through a run and checks each confirmed purchase has exactly one charge line, on its invoice. */
async function expectEachOnOneInvoice(
  sql: pg.Pool,
  log: TrafficLog,
  fixtures: Fixtures,
  target: string,
): Promise<void> {
  const posted = await log.send(target, 'POST', '/v1/operator/billing-runs', {
    token: fixtures.operator.apiKey,
    key: `final-run-${Date.now()}`,
    body: {},
  });
  expect(posted.status).toBe(202);
  const runId = (posted.body as { id: string }).id;
  await waitUntil(
    async () =>
      (await sql.query<{ status: string }>('SELECT status FROM billing_runs WHERE id = $1', [runId])).rows[0]
        ?.status === 'done',
    60_000,
    `final billing run ${runId} done`,
  );
  // Lines are stored summed per document, publisher, kind and VAT rate, with the ids of the purchases they charge.
  const lines = await sql.query<{ id: string; charge_lines: number; on_its_invoice: number }>(
    `WITH named AS (
       SELECT l.invoice_id, x.id FROM invoice_lines l CROSS JOIN LATERAL unnest(l.purchase_ids) AS x(id)
       WHERE l.kind = 'charge'
     )
     SELECT p.id, count(n.id)::int AS charge_lines,
            (count(n.id) FILTER (WHERE n.invoice_id = p.invoice_id))::int AS on_its_invoice
     FROM purchases p LEFT JOIN named n ON n.id = p.id
     WHERE p.publisher_id = $1 AND p.status IN ('confirmed', 'refunded', 'disputed')
     GROUP BY p.id`,
    [fixtures.publisher.id],
  );
  expect(lines.rows.length).toBeGreaterThan(0);
  expect(lines.rows.filter((r) => r.charge_lines !== 1 || r.on_its_invoice !== 1)).toEqual([]);
}
