/*
 * The closed lists the integrator reference (docs/) names, written once: records, request schemas, the
 * OpenAPI document, SQL and pages all take them from here.
 */

export const PURCHASE_STATUSES = ['pending', 'confirmed', 'declined', 'expired', 'refunded', 'disputed'] as const;
export type PurchaseStatus = (typeof PURCHASE_STATUSES)[number];

export const SUBSCRIPTION_STATUSES = ['pending', 'active', 'past_due', 'canceled', 'declined', 'expired'] as const;
export type SubscriptionStatus = (typeof SUBSCRIPTION_STATUSES)[number];

export const PURCHASE_KINDS = ['article', 'credits', 'subscription'] as const;
export type PurchaseKind = (typeof PURCHASE_KINDS)[number];

/** The billing channels a publisher has a commission rate for; Kiosque's ISP rate is the point. */
export const CHANNELS = ['isp', 'sms', 'voice'] as const;
export type Channel = (typeof CHANNELS)[number];

export const PLANS = ['weekly', 'monthly', 'quarterly'] as const;
export type Plan = (typeof PLANS)[number];
