import type { OutboxEvent } from './purchases.js';
import type { Sql, Statement } from './sql.js';

/** Who an outbox event goes to: each event has exactly one recipient. */
export type Recipient = { publisherId: string } | { operatorId: string };

const INSERT_EVENT: Statement = {
  name: 'outbox_insert_event',
  text: `INSERT INTO outbox_events (id, publisher_id, operator_id, type, payload, created_at, next_attempt_at)
    VALUES ($1::text, $2::text, $3::text, $4::text, $5::jsonb, $6::timestamptz, $6::timestamptz)`,
};

/** Queues a webhook in the caller's transaction: it exists if and only if its cause does. Due at once. */
export async function insertEvent(sql: Sql, recipient: Recipient, event: OutboxEvent): Promise<void> {
  await sql.rows(INSERT_EVENT, [
    event.id,
    'publisherId' in recipient ? recipient.publisherId : null,
    'operatorId' in recipient ? recipient.operatorId : null,
    event.type,
    JSON.stringify(event.payload),
    event.createdAt,
  ]);
}

/** Queues a webhook to an operator in the caller's transaction. */
export async function insertOperatorEvent(sql: Sql, operatorId: string, event: OutboxEvent): Promise<void> {
  await insertEvent(sql, { operatorId }, event);
}
