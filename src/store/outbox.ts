import type { OutboxEvent } from './purchases.js';
import type { Sql, Statement } from './sql.js';

const INSERT_OPERATOR_EVENT: Statement = {
  name: 'outbox_insert_operator_event',
  text: `INSERT INTO outbox_events (id, operator_id, type, payload, created_at, next_attempt_at)
    VALUES ($1::text, $2::text, $3::text, $4::jsonb, $5::timestamptz, $5::timestamptz)`,
};

/** Queues a webhook to an operator in the caller's transaction: it exists if and only if its cause does. */
export async function insertOperatorEvent(sql: Sql, operatorId: string, event: OutboxEvent): Promise<void> {
  await sql.rows(INSERT_OPERATOR_EVENT, [
    event.id,
    operatorId,
    event.type,
    JSON.stringify(event.payload),
    event.createdAt,
  ]);
}
