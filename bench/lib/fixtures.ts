import type pg from 'pg';
import jwt from 'jsonwebtoken';
import { hashApiKey, newApiKey, newAssertionSecret, newWebhookSecret } from '../../src/domain/credentials.js';

export interface BenchOperator {
  id: string;
  apiKey: string;
  assertionSecret: string;
}

export interface BenchWorld {
  operator: BenchOperator;
  /** Regulatory-maximum limits, so the hot subscriber is not declined by its own traffic. */
  hotOperator: BenchOperator;
  publisher: { id: string; apiKey: string; webhookSecret: string };
  subscribers: number;
}

export const subscriberId = (n: number) => `sub_b${n}`;
export const subscriberRef = (n: number) => `ref${n}`;
export const HOT_SUBSCRIBER_ID = 'sub_hot';
export const HOT_SUBSCRIBER_REF = 'hot';

async function insertOperator(client: pg.Client, id: string, limits: [string, string, string]): Promise<BenchOperator> {
  const apiKey = newApiKey('operator');
  const assertionSecret = newAssertionSecret();
  await client.query(
    `INSERT INTO operators (id, name, brand, api_key_hash, assertion_secret, limit_per_purchase, limit_weekly, limit_monthly)
     VALUES ($1, $1, $1, $2, $3, $4, $5, $6)`,
    [id, hashApiKey(apiKey), assertionSecret, ...limits],
  );
  return { id, apiKey, assertionSecret };
}

/**
 * Operators, a publisher and `subscribers` subscribers written straight in SQL:
 * provisioning 100,000 over HTTP would take longer than the measurement.
 */
export async function provisionWorld(
  client: pg.Client,
  subscribers: number,
  webhookUrl: string | null = null,
): Promise<BenchWorld> {
  const operator = await insertOperator(client, 'op_bench', ['30.00', '60.00', '150.00']);
  const hotOperator = await insertOperator(client, 'op_bench_hot', ['50.00', '300.00', '300.00']);
  const publisherKey = newApiKey('publisher');
  const webhookSecret = newWebhookSecret();
  await client.query(
    `INSERT INTO publishers (id, name, category, webhook_url, webhook_secret, api_key_hash, rate_isp, rate_sms, rate_voice)
     VALUES ('pub_bench', 'Bench Press', 'press', $1, $2, $3, 0.15, 0.50, 0.30)`,
    [webhookUrl, webhookSecret, hashApiKey(publisherKey)],
  );
  await client.query(
    `INSERT INTO subscribers (id, operator_id, external_ref)
     SELECT 'sub_b' || g, 'op_bench', 'ref' || g FROM generate_series(1, $1::int) AS g`,
    [subscribers],
  );
  await client.query(`INSERT INTO subscribers (id, operator_id, external_ref) VALUES ($1, 'op_bench_hot', $2)`, [
    HOT_SUBSCRIBER_ID,
    HOT_SUBSCRIBER_REF,
  ]);
  // Only the tables written here: a table analyzed while empty is planned as empty ever after (vacuumTablesWithRows).
  await client.query('ANALYZE operators, publishers, subscribers');
  return { operator, hotOperator, publisher: { id: 'pub_bench', apiKey: publisherKey, webhookSecret }, subscribers };
}

/**
 * Kiosque Points for the spread subscribers: the operator's programme on, and
 * `points` available to each household, posted as the journal would (an earn
 * entry and its maturity), in set-based SQL.
 */
export async function grantPoints(client: pg.Client, subscribers: number, points: number): Promise<void> {
  await client.query(`UPDATE operators SET points_enabled = true, point_value = 0.01 WHERE id = 'op_bench'`);
  await client.query(
    `INSERT INTO points_households (holder_id, operator_id)
     SELECT 'sub_b' || g, 'op_bench' FROM generate_series(1, $1::int) AS g ON CONFLICT DO NOTHING`,
    [subscribers],
  );
  for (const [kind, from, to] of [
    ['earn', 'points:operator:op_bench:issued', 'pending'],
    ['mature', 'pending', 'available'],
  ] as const) {
    await client.query(
      `WITH e AS (
         INSERT INTO ledger_entries (key, kind, operator_id, created_at)
         SELECT 'points-${kind}:bench-' || g, 'points_${kind}', 'op_bench', now() - interval '15 days'
         FROM generate_series(1, $1::int) AS g
         RETURNING id, split_part(key, '-', 3)::int AS g
       )
       INSERT INTO ledger_postings (entry_id, account, unit, amount)
       SELECT e.id, a.account, 'PTS', a.amount FROM e CROSS JOIN LATERAL (VALUES
         (CASE WHEN $3::text LIKE 'points:%' THEN $3::text ELSE 'points:holder:sub_b' || e.g || ':' || $3::text END, $2::numeric),
         ('points:holder:sub_b' || e.g || ':' || $4::text, -$2::numeric)) AS a(account, amount)`,
      [subscribers, points, from, to],
    );
  }
  await client.query('ANALYZE operators, points_households, ledger_entries, ledger_postings');
}

/** Assertions as an operator's portal mints them, cached per subscriber well inside their 10-minute life. */
export class AssertionCache {
  private readonly tokens = new Map<string, { token: string; mintedAtMs: number }>();

  constructor(private readonly world: BenchWorld) {}

  forSubscriber(n: number | 'hot'): string {
    const key = String(n);
    const cached = this.tokens.get(key);
    if (cached && Date.now() - cached.mintedAtMs < 240_000) return cached.token;
    const operator = n === 'hot' ? this.world.hotOperator : this.world.operator;
    const token = jwt.sign({}, operator.assertionSecret, {
      algorithm: 'HS256',
      issuer: operator.id,
      subject: n === 'hot' ? HOT_SUBSCRIBER_REF : subscriberRef(n),
      audience: 'kiosque',
      expiresIn: 300,
    });
    this.tokens.set(key, { token, mintedAtMs: Date.now() });
    return token;
  }
}
