import type { DisputeParty, DisputeWithParties } from '../../domain/disputes.js';
import { disputePayload, type PurchaseView } from '../../domain/webhook-payloads.js';

/** docs/webhooks.md: the API shows a purchase, a refund and a subscription as their webhooks carry them. */
export {
  purchasePayload as purchaseResource,
  refundPayload as refundResource,
  subscriptionPayload as subscriptionResource,
} from '../../domain/webhook-payloads.js';

/**
 * Consent evidence of a confirmation: when, from which address and user agent,
 * on which consent page version, under which assertion. Shown to the
 * subscriber it concerns and, in a dispute, to its operator; never to publishers: it is personal data.
 */
export function consentResource(purchase: PurchaseView) {
  if (purchase.consentAssertionId === null) return null;
  return {
    at: purchase.confirmedAt?.toISOString() ?? null,
    ip: purchase.consentIp,
    userAgent: purchase.consentUserAgent,
    pageVersion: purchase.consentPageVersion,
    assertionId: purchase.consentAssertionId,
  };
}

/**
 * The dispute as the API returns it. Consent evidence goes to the subscriber
 * and to its operator, who decides contested disputes; the publisher (and its
 * webhooks) get the dispute without that personal data.
 */
export function disputeResource(
  dispute: DisputeWithParties,
  viewer: DisputeParty['kind'],
  publicUrl: string,
  now: Date = new Date(),
) {
  return {
    ...disputePayload(dispute, publicUrl, now),
    // The operator's reference for a subscriber may be a phone number: not the publisher's to know.
    ...(viewer === 'publisher'
      ? {}
      : { subscriberRef: dispute.subscriber.externalRef, consent: consentResource(dispute.purchase) }),
  };
}
