import { webhookEventStatus } from '../../domain/webhook-events.js';
import type { WebhookEventRecord } from '../../store/webhooks.js';

/** An outbox event as its publisher sees it: what was sent, and how each attempt went. */
export function webhookEventResource(event: WebhookEventRecord) {
  const status = webhookEventStatus(event);
  return {
    id: event.id,
    object: 'webhook_event',
    type: event.type,
    status,
    createdAt: event.createdAt.toISOString(),
    deliveredAt: event.deliveredAt?.toISOString() ?? null,
    failedAt: event.failedAt?.toISOString() ?? null,
    skippedAt: event.skippedAt?.toISOString() ?? null,
    nextAttemptAt: status === 'pending' ? event.nextAttemptAt.toISOString() : null,
    payload: event.payload,
    attempts: event.attempts.map((a) => ({
      attemptedAt: a.attemptedAt.toISOString(),
      statusCode: a.statusCode,
      error: a.error,
      durationMs: a.durationMs,
    })),
  };
}
