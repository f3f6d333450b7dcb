import { expect } from 'vitest';
import { Decimal } from '../../src/shared/money.js';
import { bearer, type OperatorFixture, type TestGateway } from './harness.js';

/** Euros as the API writes them. */
export const cents = (d: Decimal.Value) => new Decimal(d).toFixed(2);

/** `percent` of `amount`, rounded down to the cent: a share a random command can ask for. */
export const portion = (amount: Decimal, percent: number) =>
  amount.times(percent).dividedBy(100).toDecimalPlaces(2, Decimal.ROUND_DOWN);

export type OutcomeKind = 'paid' | 'unpaid' | 'partially_paid';

/**
 * The property tests' outcome step: the operator reports an outcome on one of its
 * issued invoices, picked by index; a partial payment of nothing or of everything
 * becomes `paid`, as an operator would report it.
 */
export async function reportOutcome(
  gw: TestGateway,
  operator: OperatorFixture,
  command: { invoice: number; share: number; kind: OutcomeKind },
): Promise<void> {
  const open = await gw.ctx.database.prisma.invoice.findMany({
    where: { operatorId: operator.id, type: 'invoice', status: 'issued' },
    orderBy: { id: 'asc' },
  });
  const invoice = open[command.invoice % Math.max(open.length, 1)];
  if (!invoice) return;
  const total = new Decimal(invoice.total.toString());
  const collected = portion(total, command.share);
  const partial = command.kind === 'partially_paid' && collected.gt(0) && collected.lt(total);
  const body = partial
    ? { status: 'partially_paid', collected: cents(collected) }
    : { status: command.kind === 'partially_paid' ? 'paid' : command.kind };
  const res = await gw
    .api()
    .post(`/v1/operator/invoices/${invoice.id}/outcome`)
    .set(bearer(operator.apiKey))
    .send(body);
  expect(res.status).toBe(200);
}
