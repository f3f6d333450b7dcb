import { z } from 'zod';
import type { ZodOpenApiPathsObject } from 'zod-openapi';
import type { EventType, OperatorEventType } from '../../domain/events.js';
import { amount, dispute, purchase, refund, subscription, time } from './schemas.js';

/** The payload of each webhook event: what its `data` carries and who receives it. */
interface WebhookEventSpec {
  summary: string;
  recipient: 'publisher' | 'operator';
  data: z.ZodType;
}

const receipt = {
  subscriberRef: z.string(),
  purchaseId: z.string(),
  publisherName: z.string(),
  description: z.string(),
  amount,
  confirmedAt: time,
};

const subscriptionWithCharge = subscription.extend({
  purchase: purchase.meta({ description: "The period's charge" }),
});

const subscriptionMaybeWithCharge = subscription.extend({
  purchase: purchase.optional().meta({ description: 'The renewal charge that was declined, when there was one' }),
});

/**
 * Every event type, keyed by its name: a `Record` over the event types, so an
 * event added to src/domain/events.ts does not compile until it is described here.
 */
const WEBHOOK_EVENTS: Record<EventType | OperatorEventType, WebhookEventSpec> = {
  'purchase.confirmed': { summary: 'A subscriber confirmed a purchase', recipient: 'publisher', data: purchase },
  'purchase.refunded': {
    summary: 'A refund was made (by the publisher or by a lost dispute)',
    recipient: 'publisher',
    data: purchase.extend({ refund }),
  },
  'purchase.charged_back': {
    summary: 'The operator reported the invoice carrying it unpaid, or partly paid',
    recipient: 'publisher',
    data: purchase.extend({
      chargedBackAmount: amount,
      invoiceId: z.string().meta({ description: 'The invoice whose outcome charged it back' }),
    }),
  },
  'subscription.activated': {
    summary: 'A subscriber confirmed a subscription; its first period was charged',
    recipient: 'publisher',
    data: subscriptionWithCharge,
  },
  'subscription.renewed': { summary: 'A period was charged', recipient: 'publisher', data: subscriptionWithCharge },
  'subscription.past_due': {
    summary: 'A renewal was declined; retries follow',
    recipient: 'publisher',
    data: subscriptionMaybeWithCharge,
  },
  'subscription.canceled': {
    summary: 'Canceled by either side, or after the last failed retry',
    recipient: 'publisher',
    data: subscriptionMaybeWithCharge,
  },
  'dispute.opened': {
    summary: 'A subscriber or operator disputes a purchase: answer before `respondBy`',
    recipient: 'publisher',
    data: dispute,
  },
  'dispute.closed': { summary: 'The dispute was won or lost', recipient: 'publisher', data: dispute },
  'operator.purchase.confirmed': {
    summary: "A receipt: a purchase, or a subscription's first period, was confirmed",
    recipient: 'operator',
    data: z.object(receipt),
  },
  'operator.spend.threshold': {
    summary: "The subscriber's spending this calendar month crossed a multiple of 20.00",
    recipient: 'operator',
    data: z.object({ subscriberRef: z.string(), monthSpent: amount, threshold: amount }),
  },
  'operator.subscription.renewed': {
    summary: "A subscription's period was renewed",
    recipient: 'operator',
    data: z.object({
      ...receipt,
      subscriptionId: z.string(),
      plan: z.enum(['weekly', 'monthly', 'quarterly']),
      currentPeriodEnd: time,
    }),
  },
};

/** The body of a delivery of `type`: the envelope every event shares around its data. */
function webhookBody(type: keyof typeof WEBHOOK_EVENTS) {
  return z.object({
    id: z.string().meta({ description: 'The event id, also sent as `webhook-id`: deduplicate on it' }),
    type: z.literal(type),
    createdAt: time,
    data: WEBHOOK_EVENTS[type].data,
  });
}

const signatureHeaders = z.object({
  'webhook-id': z.string().meta({ description: 'The event id' }),
  'webhook-timestamp': z.string().meta({ description: 'Seconds since the epoch, at sending time' }),
  'webhook-signature': z.string().meta({
    description:
      'Space-separated `v1,<base64 HMAC-SHA256 of "<webhook-id>.<webhook-timestamp>.<raw body>">`, keyed with ' +
      "the bytes of the recipient's `whsec_` secret; two during a secret rotation",
  }),
});

/** OpenAPI 3.1 `webhooks`: one POST per event type, as Kiosque sends it to the recipient's webhookUrl. */
export function webhookPathItems(): ZodOpenApiPathsObject {
  return Object.fromEntries(
    (Object.keys(WEBHOOK_EVENTS) as (keyof typeof WEBHOOK_EVENTS)[]).map((type) => {
      const spec = WEBHOOK_EVENTS[type];
      return [
        type,
        {
          post: {
            operationId: `webhook.${type}`,
            summary: spec.summary,
            description:
              `Sent to the ${spec.recipient}'s \`webhookUrl\`, signed per Standard Webhooks, at least once; ` +
              'retried with backoff for 27 h 35 min until it answers 2xx.',
            tags: [spec.recipient === 'publisher' ? 'Publisher events' : 'Operator events'],
            requestParams: { header: signatureHeaders },
            requestBody: { required: true, content: { 'application/json': { schema: webhookBody(type) } } },
            responses: {
              '2XX': { description: 'Acknowledged: the event will not be sent again' },
              default: { description: 'Not acknowledged: the event is sent again later' },
            },
          },
        },
      ];
    }),
  );
}
