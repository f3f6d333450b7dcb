import { toCents } from './money.js';
import { Decimal } from '../shared/money.js';

import type { Channel } from '../shared/catalogue.js';

/** What each channel historically costs a publisher; Kiosque's ISP rate is the point. */
export const DEFAULT_COMMISSION_RATES: Record<Channel, Decimal> = {
  isp: new Decimal('0.15'),
  voice: new Decimal('0.30'),
  sms: new Decimal('0.50'),
};

/** Commission on a collected amount, rounded per purchase by the one rule in money.ts. */
export function commissionOn(collected: Decimal, rate: Decimal): Decimal {
  return toCents(collected.times(rate));
}
