import supertest from 'supertest';
import { afterAll, describe, expect, it } from 'vitest';
import {
  assertion,
  bearer,
  buy,
  createOperator,
  createPublisher,
  idemKey,
  provision,
  unique,
} from './support/harness.js';
import { useGateway } from './support/world.js';
import { spawnGateway, type GatewayProcess } from './support/gateway-process.js';

const queuePrefix = unique('q-billing-npm-start');
const gw = useGateway({ queuePrefix });
let gateway: GatewayProcess | null = null;

afterAll(async () => {
  await gateway?.stop();
});

describe('npm start: the gateway runs the workers in its own process', () => {
  it('When a run is posted to a gateway whose workers are on (the default), then its own billing worker bills it, and SIGTERM stops it cleanly', async () => {
    const publisher = await createPublisher(gw);
    const op = await createOperator(gw);
    const token = assertion(op, await provision(gw, op));
    const { res: bought } = await buy(gw, publisher, token, { amount: '3.50' });
    expect(bought.status).toBe(200);

    gateway = await spawnGateway({ RUN_WORKERS: '1', QUEUE_PREFIX: queuePrefix, BILLING_SWEEP_INTERVAL_MS: '600000' });
    const api = supertest(gateway.url);
    const posted = await api
      .post('/v1/operator/billing-runs')
      .set(bearer(op.apiKey))
      .set('Idempotency-Key', idemKey())
      .send({});
    expect(posted.status).toBe(202);

    const deadline = Date.now() + 30_000;
    let run = posted.body;
    while (run.status !== 'done' && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
      run = (await api.get(`/v1/operator/billing-runs/${posted.body.id}`).set(bearer(op.apiKey))).body;
    }
    expect(run).toMatchObject({ status: 'done', invoiceCount: 1, total: '3.50' });

    const exited = new Promise<number | null>((resolve) => gateway?.child.once('exit', (code) => resolve(code)));
    await gateway.stop();
    expect(await exited).toBe(0);
  });
});
