import type { OutboxEvent, WebhookAttempt } from '../generated/prisma/client.js';
import type { Db } from '../store/db.js';

export type WebhookEventStatus = 'pending' | 'delivered' | 'failed';

export function webhookEventStatus(event: Pick<OutboxEvent, 'deliveredAt' | 'failedAt'>): WebhookEventStatus {
  if (event.deliveredAt) return 'delivered';
  return event.failedAt ? 'failed' : 'pending';
}

/** An outbox event as its publisher sees it: what was sent, and how each attempt went. */
export function webhookEventResource(event: OutboxEvent & { deliveries: WebhookAttempt[] }) {
  const status = webhookEventStatus(event);
  return {
    id: event.id,
    object: 'webhook_event',
    type: event.type,
    status,
    createdAt: event.createdAt.toISOString(),
    deliveredAt: event.deliveredAt?.toISOString() ?? null,
    failedAt: event.failedAt?.toISOString() ?? null,
    nextAttemptAt: status === 'pending' ? event.nextAttemptAt.toISOString() : null,
    payload: event.payload,
    attempts: event.deliveries.map((a) => ({
      attemptedAt: a.attemptedAt.toISOString(),
      statusCode: a.statusCode,
      error: a.error,
      durationMs: a.durationMs,
    })),
  };
}

/** One page of a publisher's own events, newest first (ids are time-ordered). */
export async function listWebhookEvents(
  db: Db,
  publisherId: string,
  page: { limit: number; cursor?: string | undefined; status?: WebhookEventStatus | undefined },
) {
  const byStatus = {
    pending: { deliveredAt: null, failedAt: null },
    delivered: { deliveredAt: { not: null } },
    failed: { deliveredAt: null, failedAt: { not: null } },
  };
  return db.outboxEvent.findMany({
    where: {
      publisherId,
      ...(page.cursor ? { id: { lt: page.cursor } } : {}),
      ...(page.status ? byStatus[page.status] : {}),
    },
    orderBy: { id: 'desc' },
    take: page.limit + 1,
    include: { deliveries: { orderBy: { id: 'asc' } } },
  });
}
