import type { Database } from '../store/database.js';
import { publisherEvents } from '../store/listings.js';
import type { WebhookEventRecord, WebhookEventState } from '../store/webhooks.js';

export type WebhookEventStatus = WebhookEventState;

export function webhookEventStatus(
  event: Pick<WebhookEventRecord, 'deliveredAt' | 'failedAt' | 'skippedAt'>,
): WebhookEventStatus {
  if (event.deliveredAt) return 'delivered';
  if (event.skippedAt) return 'skipped';
  return event.failedAt ? 'failed' : 'pending';
}

/** One page of a publisher's own events, newest first; one more than `limit` tells the caller a next page exists. */
export async function listWebhookEvents(
  database: Database,
  publisherId: string,
  page: { limit: number; cursor?: string | undefined; status?: WebhookEventStatus | undefined },
): Promise<WebhookEventRecord[]> {
  return publisherEvents(database, publisherId, {
    take: page.limit + 1,
    before: page.cursor ?? null,
    state: page.status ?? null,
  });
}
