import { z } from 'zod';
import { CATEGORIES } from '../../domain/categories.js';
import { ERROR_CODES } from '../../shared/codes.js';
import { CHANNELS, PURCHASE_STATUSES, SUBSCRIPTION_STATUSES } from '../../shared/catalogue.js';
import { CURRENCY } from '../../shared/money.js';
import { EUR, POINTS } from '../../shared/accounts.js';

/** Schemas of what the API answers (requests are described by the handlers' own schemas). */

export const amount = z
  .string()
  .regex(/^-?\d+\.\d{2}$/)
  .meta({ description: 'Euros, two decimals, as a string', example: '2.88' });
export const time = z.string().meta({ format: 'date-time', example: '2026-11-30T10:00:00.000Z' });
const nullableTime = time.nullable();

export const errorBody = z
  .object({
    error: z.object({
      code: z.enum([...ERROR_CODES, 'service_unavailable', 'internal_error']),
      message: z.string(),
      details: z.record(z.string(), z.unknown()).meta({ description: 'For 400: `fields` names each bad field' }),
      requestId: z.string().meta({
        description: "The `Request-Id` this answer was sent with (the caller's own when it sent a sane one)",
      }),
    }),
  })
  .meta({ id: 'Error' });

export const purchase = z
  .looseObject({
    id: z.string().meta({ example: 'pur_01JD5Z3W0000000000000000' }),
    object: z.literal('purchase'),
    status: z.enum(PURCHASE_STATUSES),
    amount,
    currency: z.literal(CURRENCY),
    channel: z.enum(CHANNELS),
    kind: z.enum(['article', 'credits', 'subscription']),
    credits: z.number().int().optional(),
    description: z.string(),
    publisherId: z.string(),
    subscriptionId: z.string().optional(),
    declineCode: z.string().optional(),
    refundedAmount: amount,
    chargedBackAmount: amount.meta({ description: 'What unpaid or partially paid invoices charged back' }),
    price: amount.optional().meta({ description: 'When points paid part: the price asked; `amount` is the euro part' }),
    pointsSpent: z.number().int().optional(),
    pointsValue: amount.optional(),
    pointsEarned: z.number().int().optional(),
    consentUrl: z.string().optional().meta({ description: 'While pending: where the subscriber confirms' }),
    returnUrl: z.string().nullable(),
    createdAt: time,
    expiresAt: time,
    confirmedAt: nullableTime,
    vatRate: z.string().nullable().meta({ description: 'The VAT rate inside `amount`, as created ("0.021")' }),
    vatAmount: amount.nullable().meta({ description: 'amount × rate / (1 + rate), half-even to the cent' }),
  })
  .meta({ id: 'Purchase' });

export const refund = z
  .looseObject({
    id: z.string(),
    object: z.literal('refund'),
    purchaseId: z.string(),
    amount,
    reason: z.string(),
    createdAt: time,
  })
  .meta({ id: 'Refund' });

export const subscription = z
  .looseObject({
    id: z.string(),
    object: z.literal('subscription'),
    status: z.enum(SUBSCRIPTION_STATUSES),
    plan: z.enum(['weekly', 'monthly', 'quarterly']),
    amount,
    currency: z.literal(CURRENCY),
    channel: z.enum(CHANNELS),
    description: z.string(),
    publisherId: z.string(),
    declineCode: z.string().optional(),
    consentUrl: z.string().optional(),
    returnUrl: z.string().nullable(),
    createdAt: time,
    expiresAt: time,
    activatedAt: nullableTime,
    currentPeriodStart: nullableTime,
    currentPeriodEnd: nullableTime,
    nextRenewalAttemptAt: nullableTime,
    canceledAt: nullableTime,
  })
  .meta({ id: 'Subscription' });

const limits = z.object({ perPurchase: amount, weekly: amount, monthly: amount }).meta({ id: 'Limits' });

export const operator = z
  .looseObject({
    id: z.string(),
    name: z.string(),
    brand: z.string(),
    sandbox: z.boolean(),
    webhookUrl: z.string().nullable(),
    limits,
    points: z.object({ enabled: z.boolean(), pointValue: amount }).meta({ description: 'Kiosque Points programme' }),
    createdAt: time,
  })
  .meta({ id: 'Operator' });

export const operatorCreated = operator
  .extend({
    apiKey: z.string().meta({ description: 'Shown once' }),
    assertionSecret: z.string().meta({ description: 'HS256 key of the assertions this operator signs; shown once' }),
    webhookSecret: z.string().meta({ description: '`whsec_…`, shown once' }),
  })
  .meta({ id: 'OperatorCreated' });

export const publisher = z
  .looseObject({
    id: z.string(),
    name: z.string(),
    category: z.enum(CATEGORIES),
    legalName: z.string().nullable(),
    supportUrl: z.string().nullable(),
    webhookUrl: z.string().nullable(),
    commissionRates: z.object({ isp: z.string(), sms: z.string(), voice: z.string() }),
    pointsPerEuro: z.number().meta({ description: 'Kiosque Points its sales award per euro (0: none)' }),
    suspended: z.boolean(),
    createdAt: time,
  })
  .meta({ id: 'Publisher' });

export const publisherCreated = publisher
  .extend({
    apiKey: z.string().meta({ description: 'Shown once' }),
    webhookSecret: z.string().meta({ description: '`whsec_…`, shown once' }),
  })
  .meta({ id: 'PublisherCreated' });

export const publisherProfile = publisher
  .extend({
    previousWebhookSecretExpiresAt: nullableTime.meta({ description: 'Until then the rotated-out secret still signs' }),
  })
  .meta({ id: 'PublisherProfile' });

export const secretRotated = z
  .object({ webhookSecret: z.string(), previousWebhookSecretExpiresAt: time })
  .meta({ id: 'SecretRotated' });

export const budget = z
  .object({
    perPurchase: amount,
    weekly: z.object({ limit: amount, spent: amount, remaining: amount }),
    monthly: z.object({ limit: amount, spent: amount, remaining: amount }),
  })
  .meta({ id: 'Budget' });

export const subscriberProvisioned = z
  .object({
    externalRef: z.string(),
    role: z.enum(['holder', 'child']),
    holderRef: z.string().nullable(),
    displayName: z.string().nullable(),
  })
  .meta({ id: 'Subscriber' });

export const controls = z
  .looseObject({
    blocked: z.boolean(),
    blockedCategories: z.array(z.enum(CATEGORIES)),
    pointsAllowed: z.boolean().meta({ description: "May the child spend the household's Kiosque Points" }),
  })
  .meta({ id: 'Controls' });

export const billingRun = z
  .looseObject({
    id: z.string(),
    through: time,
    status: z.enum(['queued', 'running', 'done', 'failed']),
    invoiceCount: z.number().int(),
    total: amount,
  })
  .meta({ id: 'BillingRun' });

const vatRate = z.enum(['0.021', '0.055', '0.10', '0.20']);

export const invoice = z
  .looseObject({
    id: z.string(),
    number: z
      .string()
      .regex(/^\d{4}-[A-Z0-9]{1,10}-\d{6,}$/)
      .meta({
        description:
          '<YYYY>-<operator code>-<n>: per operator and year of issue (Europe/Paris), 1, 2, 3… with no gap or repeat',
        example: '2026-OR7K2M9QXA-000042',
      }),
    type: z.enum(['invoice', 'credit_note']),
    correctsInvoiceId: z.string().nullable().meta({ description: 'For a credit note: the invoice it corrects' }),
    billingRunId: z.string(),
    subscriberRef: z.string(),
    status: z.enum(['issued', 'paid', 'unpaid', 'partially_paid']),
    total: amount,
    vatTotal: amount,
    vatBreakdown: z
      .array(z.looseObject({ rate: vatRate, base: amount, vat: amount }))
      .meta({ description: 'One entry per VAT rate on the document; base + vat sum to total, vat to vatTotal' }),
    lines: z.array(
      z.looseObject({
        id: z.string(),
        publisherId: z.string(),
        description: z.string(),
        amount,
        vat: amount,
        vatRate,
        purchaseId: z.string(),
        refundId: z.string().nullable(),
      }),
    ),
  })
  .meta({ id: 'Invoice' });

export const settlementRow = z
  .looseObject({
    publisherId: z.string(),
    gross: amount,
    commission: amount,
    refunds: amount,
    chargebacks: amount,
    pointsIssuedValue: amount.meta({ description: 'What the publisher owes for the points its sales earned' }),
    pointsRedeemedValue: amount.meta({ description: 'What the publisher is owed for the points spent on it' }),
    net: amount.meta({
      description: 'gross + pointsRedeemedValue = commission + net + refunds + chargebacks + pointsIssuedValue',
    }),
  })
  .meta({ id: 'SettlementRow' });

export const reconciliation = z
  .looseObject({
    billed: amount,
    collected: amount,
    uncollected: amount,
    outstanding: amount,
    credited: amount,
    remitted: amount,
    remittanceDifference: amount,
    invoices: z.looseObject({
      paid: z.number().int(),
      partially_paid: z.number().int(),
      unpaid: z.number().int(),
      open: z.number().int(),
    }),
  })
  .meta({ id: 'Reconciliation' });

export const publisherSettlement = settlementRow
  .omit({ publisherId: true })
  .extend({ billingRunId: z.string(), operatorId: z.string(), sandbox: z.boolean(), through: time })
  .meta({ id: 'PublisherSettlement' });

export const points = z
  .looseObject({
    enabled: z.boolean(),
    pointValue: amount,
    available: z.number().int(),
    pending: z.number().int(),
    owed: z.number().int(),
    availableValue: amount,
    history: z.array(
      z.looseObject({
        id: z.string(),
        type: z.enum(['earned', 'available', 'spent', 'clawed_back', 'expired']),
        points: z.number().int(),
        available: z.number().int(),
        pending: z.number().int(),
        purchaseId: z.string().nullable(),
        at: time,
      }),
    ),
    nextCursor: z.string().nullable(),
  })
  .meta({ id: 'Points' });

/** A journal figure: euros with two decimals, or whole Kiosque Points for unit PTS. */
const figure = z
  .string()
  .regex(/^-?\d+(\.\d{2})?$/)
  .meta({ description: 'Euros with two decimals (unit EUR) or whole points (unit PTS)' });

export const ledgerBalances = z
  .looseObject({
    accounts: z.array(
      z.looseObject({
        account: z.string(),
        unit: z.enum([EUR, POINTS]),
        debit: figure,
        credit: figure,
        balance: figure,
      }),
    ),
    totalDebit: amount,
    totalCredit: amount,
  })
  .meta({ id: 'LedgerBalances' });

export const payout = z
  .looseObject({ id: z.string(), publisherId: z.string(), amount, createdAt: time })
  .meta({ id: 'Payout' });

export const balance = z
  .looseObject({ pending: amount, available: amount, settled: amount, paidOut: amount })
  .meta({ id: 'Balance' });

export const dispute = z
  .looseObject({
    id: z.string(),
    object: z.literal('dispute'),
    purchaseId: z.string(),
    status: z.enum(['open', 'under_review', 'won', 'lost']),
    reason: z.string(),
    openedBy: z.enum(['subscriber', 'operator']),
    respondBy: time,
    evidence: z.string().nullable(),
    respondedAt: nullableTime,
    closedAt: nullableTime,
    createdAt: time,
    refund: refund.nullable().meta({ description: 'The refund a lost dispute made' }),
    purchase,
  })
  .meta({ id: 'Dispute' });

export const disputeRate = z
  .looseObject({
    publisherId: z.string(),
    disputes: z.number().int(),
    confirmedPurchases: z.number().int(),
    disputeRate: z.string().nullable(),
  })
  .meta({ id: 'DisputeRate' });

export const webhookEvent = z
  .looseObject({
    id: z.string(),
    type: z.string(),
    status: z.enum(['pending', 'delivered', 'failed', 'skipped']).meta({
      description: '`skipped`: it came due while the publisher had no webhookUrl, so it was neither sent nor retried',
    }),
    payload: z.unknown(),
  })
  .meta({ id: 'WebhookEvent' });

/** `{data: [...], nextCursor}`: every list. */
export const list = <T extends z.ZodType>(item: T) =>
  z.object({ data: z.array(item), nextCursor: z.string().nullable() });
