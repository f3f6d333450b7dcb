import { describe, expect, it } from 'vitest';
import { holdRow } from './support/billing-leases.js';
import { TEST_DATABASE_URL } from './support/env.js';
import { admin, createOperator } from './support/harness.js';
import { dropOperatorWebhookSecret, operatorRow } from './support/rows.js';
import { useGateway } from './support/world.js';

/*
 * An operator from before v1.1 has no webhook secret; the first PATCH that gives it a webhook URL makes one and
 * answers it, once. Whatever is answered must be what signs its webhooks: the secret stored.
 */

const gw = useGateway();
const hookUrl = 'https://operator.example/hooks';

const patchWebhookUrl = (id: string) =>
  gw.api().patch(`/v1/admin/operators/${id}`).set(admin).send({ webhookUrl: hookUrl });

/** Locks an operator's row on a connection outside the gateway's pool, as a transaction in flight would. */
const holdOperator = (id: string) => holdRow(TEST_DATABASE_URL, 'operators', id);

/**
 * The backends waiting, directly or in the queue behind another waiter, for what `holder` locks: PostgreSQL
 * names only the head of a row lock's queue as blocked by the holder, those after it as blocked by the head.
 */
async function waitingBehind(holder: number): Promise<number[]> {
  const { rows } = await gw.ctx.database.pool.query<{ pid: number }>(
    `WITH RECURSIVE waiting(pid) AS (
       SELECT pid FROM pg_stat_activity WHERE $1::int = ANY(pg_blocking_pids(pid))
       UNION
       SELECT a.pid FROM pg_stat_activity a JOIN waiting w ON w.pid = ANY(pg_blocking_pids(a.pid))
     )
     SELECT pid FROM waiting`,
    [holder],
  );
  return rows.map((r) => r.pid);
}

/** Polls well inside the gateway's 2 s lock timeout, so that the waiters are still waiting when it holds. */
async function until(condition: () => Promise<boolean>): Promise<void> {
  for (let tries = 0; tries < 150; tries++) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  const { rows } = await gw.ctx.database.pool.query(
    `SELECT pid, pg_blocking_pids(pid) AS blockers, wait_event_type, state, left(query, 120) AS query
     FROM pg_stat_activity WHERE datname = current_database()`,
  );
  throw new Error(`the condition never held: ${JSON.stringify(rows)}`);
}

describe("An operator's first webhook secret", () => {
  it('When an operator without a secret is given a webhook URL twice, then the first answer shows the stored secret and the second none', async () => {
    const operator = await createOperator(gw);
    await dropOperatorWebhookSecret(gw, operator.id);

    const first = await patchWebhookUrl(operator.id);
    const second = await patchWebhookUrl(operator.id);

    expect([first.status, second.status]).toEqual([200, 200]);
    expect(first.body.webhookSecret).toMatch(/^whsec_/);
    expect(second.body).not.toHaveProperty('webhookSecret');
    expect((await operatorRow(gw, operator.id)).webhookSecret).toBe(first.body.webhookSecret);
  });

  it('When two first PATCHes with a webhook URL wait on the same row lock, then exactly one answers a secret and it is the one stored', async () => {
    const operator = await createOperator(gw);
    await dropOperatorWebhookSecret(gw, operator.id);
    const held = await holdOperator(operator.id);
    let answered = 0;
    const answers = Promise.all(
      [patchWebhookUrl(operator.id), patchWebhookUrl(operator.id)].map(async (request) => {
        const res = await request;
        answered += 1;
        return res;
      }),
    );
    try {
      // Both have read the operator without its secret and now wait for its row: the race, held open.
      await until(async () => (await waitingBehind(held.pid)).length === 2);
      expect(answered).toBe(0);
    } finally {
      await held.release();
    }

    const [one, other] = await answers;
    expect([one?.status, other?.status]).toEqual([200, 200]);
    const shown = [one?.body, other?.body].flatMap((body: { webhookSecret?: string }) =>
      body.webhookSecret === undefined ? [] : [body.webhookSecret],
    );
    const stored = await operatorRow(gw, operator.id);
    expect(stored.webhookSecret).toMatch(/^whsec_/);
    expect(shown).toEqual([stored.webhookSecret]);
    expect(stored.webhookUrl).toBe(hookUrl);
  });
});
