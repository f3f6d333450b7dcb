import Decimal from 'decimal.js';
import type { Channel, Plan, PurchaseKind, PurchaseStatus, SubscriptionStatus } from '../shared/catalogue.js';

/**
 * What repositories hand the domain: plain records with decimal.js money and
 * statuses as unions, never a generated Prisma type.
 */

export interface PurchaseRecord {
  id: string;
  publisherId: string;
  subscriberId: string | null;
  subscriptionId: string | null;
  subscriptionPeriodStart: Date | null;
  kind: PurchaseKind;
  credits: number | null;
  amount: Decimal;
  currency: string;
  description: string;
  channel: Channel;
  returnUrl: string | null;
  status: PurchaseStatus;
  declineCode: string | null;
  createdAt: Date;
  expiresAt: Date;
  confirmedAt: Date | null;
  commissionRate: Decimal | null;
  commissionAmount: Decimal | null;
  refundedAmount: Decimal;
  chargedBackAmount: Decimal;
  invoiceId: string | null;
  /** VAT rate fixed at creation (docs/money.md); null on purchases made before VAT by product. */
  vatRate: Decimal | null;
  consentIp: string | null;
  consentUserAgent: string | null;
  consentPageVersion: string | null;
  consentAssertionId: string | null;
  /** Kiosque Points: `amount` is the euro part; these points at `pointValue` each paid the rest. */
  pointsSpent: number;
  /** What the euro part earned for the household. */
  pointsEarned: number;
  /** The operator's point value at confirmation, which values both; null when no points moved. */
  pointValue: Decimal | null;
}

export interface RefundRecord {
  id: string;
  purchaseId: string;
  amount: Decimal;
  reason: 'publisher' | 'dispute';
  disputeId: string | null;
  createdAt: Date;
}

/** What a charge needs to know of the publisher selling. */
export interface SellerRecord {
  id: string;
  name: string;
  category: string;
  suspended: boolean;
  rates: Record<Channel, Decimal>;
  /** The publisher's default VAT rate (docs/money.md), which a purchase or subscription may override. */
  vatRate: Decimal;
  /** Points its sales award per euro (0: none). */
  pointsPerEuro: Decimal;
}

export interface OperatorLimitsRecord {
  id: string;
  name: string;
  brand: string;
  limitPerPurchase: Decimal;
  limitWeekly: Decimal;
  limitMonthly: Decimal;
  /** A sandbox operator's scenario subscribers decline on purpose (docs/sandbox.md). */
  sandbox: boolean;
  /** Whether the operator registered a webhook URL, so a charge has operator events to queue. */
  notified: boolean;
  /** Kiosque Points: whether the operator runs the programme, and the euro value of one point. */
  pointsEnabled: boolean;
  pointValue: Decimal;
}

/** A subscriber as its row lock returns it: household controls and its operator's limits. */
export interface LockedSubscriberRecord {
  id: string;
  operatorId: string;
  externalRef: string;
  holderId: string | null;
  blocked: boolean;
  blockedCategories: string[];
  limitWeekly: Decimal | null;
  limitMonthly: Decimal | null;
  /** For a child: whether its holder lets it spend the household's points. */
  pointsAllowed: boolean;
  operator: OperatorLimitsRecord;
}

export interface SubscriptionRecord {
  id: string;
  publisherId: string;
  subscriberId: string | null;
  plan: Plan;
  amount: Decimal;
  currency: string;
  description: string;
  channel: Channel;
  returnUrl: string | null;
  status: SubscriptionStatus;
  declineCode: string | null;
  createdAt: Date;
  expiresAt: Date;
  activatedAt: Date | null;
  currentPeriodStart: Date | null;
  currentPeriodEnd: Date | null;
  renewalAttempts: number;
  nextAttemptAt: Date | null;
  canceledAt: Date | null;
  /** Overrides the publisher's VAT rate for every period; null means the publisher's. */
  vatRate: Decimal | null;
}

export function money(text: string): Decimal;
export function money(text: string | null): Decimal | null;
export function money(text: string | null): Decimal | null {
  return text === null ? null : new Decimal(text);
}

/** A numeric as Prisma's typed client reads it: Prisma's own Decimal class, never handed to the domain. */
interface PrismaDecimal {
  toFixed(): string;
}

/** Prisma's Decimal as the decimal.js Decimal records carry, digit for digit (toFixed() never rounds nor uses e). */
export function decimalOf(value: PrismaDecimal): Decimal;
export function decimalOf(value: PrismaDecimal | null): Decimal | null;
export function decimalOf(value: PrismaDecimal | null): Decimal | null {
  return value === null ? null : new Decimal(value.toFixed());
}
