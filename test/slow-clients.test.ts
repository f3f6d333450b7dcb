import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type Gateway } from '../src/server.js';
import { testConfig, unique } from './support/harness.js';
import { useGateway, useOperator, usePublisher, useSubscriber } from './support/world.js';

/** Short, so that the test sees the server close slow connections; production waits 15 s. */
const RECEIVE_TIMEOUT_MS = 3_000;
const MAX_PER_ADDRESS = 50;
/** Below the connections one address may hold: were a slow request counted before its body, they would fill it. */
const MAX_IN_FLIGHT = 20;
const SLOW_CONNECTIONS = 600;
/** Every one of these is loopback on Linux; binding a client socket to one makes it a distinct peer address. */
const ATTACKER = '127.0.0.2';
const SILENT = '127.0.0.3';
const HONEST = ['127.0.0.4', '127.0.0.5', '127.0.0.6', '127.0.0.7'];
const REQUESTS_PER_HONEST_ADDRESS = 20;

const fixtures = useGateway();
const operator = useOperator(fixtures);
const publisher = usePublisher(fixtures);
const subscriber = useSubscriber(fixtures, operator);
let gateway: Gateway;
let port: number;

beforeAll(async () => {
  gateway = await startGateway(
    testConfig({
      port: 0,
      runWorkers: false,
      queuePrefix: unique('kq-slow'),
      requestReceiveTimeoutMs: RECEIVE_TIMEOUT_MS,
      maxConnectionsPerAddress: MAX_PER_ADDRESS,
      maxInFlight: MAX_IN_FLIGHT,
    }),
  );
  await gateway.ready;
  const address = gateway.server.address();
  port = typeof address === 'object' && address ? address.port : 0;
});
afterAll(async () => {
  for (const socket of opened) socket.destroy();
  gateway.server.closeAllConnections();
  await gateway.close();
});

interface SlowOutcome {
  /** The first line the server answered, if it answered at all. */
  statusLine: string | null;
}

/** Every socket the test opened, closed at the end whatever happened, so a failure leaves nothing behind. */
const opened: Socket[] = [];
/** How long the server may take to close a slow connection: the timeout, Node's check after it, and slack. */
const CLOSE_WITHIN_MS = 3 * RECEIVE_TIMEOUT_MS + 5_000;

/** The promise's value, or `fallback` once `limitMs` has passed: the test waits a bounded time on the server. */
function within<T>(promise: Promise<T>, limitMs: number, fallback: T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<T>((resolve) => (timer = setTimeout(() => resolve(fallback), limitMs)));
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

/**
 * A POST announcing a 15 kB JSON body, then a byte every quarter second, so it
 * never idles long yet never finishes. Settles when the server closes it.
 */
function slowRequest(localAddress: string): Promise<SlowOutcome> {
  return new Promise((resolve) => {
    let answer = '';
    let trickle: NodeJS.Timeout | undefined;
    const socket: Socket = connect({ host: '127.0.0.1', port, localAddress }, () => {
      socket.write(
        'POST /v1/purchases HTTP/1.1\r\nHost: kiosque.test\r\nContent-Type: application/json\r\n' +
          `Authorization: Bearer ${publisher.apiKey}\r\nContent-Length: 15000\r\n\r\n{`,
      );
      trickle = setInterval(() => socket.write(' '), 250);
    });
    opened.push(socket);
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString('latin1')));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearInterval(trickle);
      resolve({ statusLine: answer ? (answer.split('\r\n')[0] ?? null) : null });
    });
  });
}

/**
 * A connection that sends nothing at all, once it is established; `closed`
 * settles when the server closes it, with what the server said first (Node
 * may get there first with a 408, else the guard closes it without a word).
 */
async function silentConnection(localAddress: string): Promise<{ closed: Promise<string> }> {
  const socket = connect({ host: '127.0.0.1', port, localAddress });
  opened.push(socket);
  let answer = '';
  // Read whatever comes: a paused socket holding unread bytes would never see the server's end.
  socket.on('data', (chunk: Buffer) => (answer += chunk.toString('latin1')));
  socket.on('error', () => undefined);
  const closed = new Promise<string>((resolve) => socket.on('close', () => resolve(answer.split('\r\n')[0] ?? '')));
  await new Promise((resolve) => socket.once('connect', resolve));
  return { closed };
}

function honestRequest(localAddress: string): Promise<number> {
  return new Promise((resolve) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        localAddress,
        agent: false,
        path: '/v1/me/budget',
        headers: { Authorization: `Bearer ${subscriber.token}` },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', () => resolve(0));
    req.end();
  });
}

const connections = () =>
  new Promise<number>((resolve, reject) =>
    gateway.server.getConnections((error, count) => (error ? reject(error) : resolve(count))),
  );

async function waitFor(condition: () => boolean | Promise<boolean>, limitMs: number): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!(await condition()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
}

describe('Slow clients cannot starve anyone (issue 21, item 3)', () => {
  it('When one address holds 600 slow requests, then other addresses are answered 2xx, its connections beyond the cap are refused, and the server closes the slow ones with 408 after the receive timeout', async () => {
    const silent = await silentConnection(SILENT);
    const slow: Promise<SlowOutcome>[] = [];
    for (let i = 0; i < SLOW_CONNECTIONS; i++) slow.push(slowRequest(ATTACKER));
    // The attack is in place once the server holds as many of its connections as one address may.
    await waitFor(async () => (await connections()) >= MAX_PER_ADDRESS, 10_000);
    const heldDuringAttack = await connections();

    const statuses = (
      await Promise.all(
        HONEST.map(async (address) => {
          const answered: number[] = [];
          for (let i = 0; i < REQUESTS_PER_HONEST_ADDRESS; i++) answered.push(await honestRequest(address));
          return answered;
        }),
      )
    ).flat();

    const stillOpen = { statusLine: 'still open' };
    const outcomes = await Promise.all(slow.map((outcome) => within(outcome, CLOSE_WITHIN_MS, stillOpen)));
    const silentAnswer = await within(silent.closed, CLOSE_WITHIN_MS, 'still open');

    expect(heldDuringAttack).toBeGreaterThanOrEqual(MAX_PER_ADDRESS);
    expect(statuses).toHaveLength(HONEST.length * REQUESTS_PER_HONEST_ADDRESS);
    expect(statuses.filter((status) => status === 503)).toEqual([]);
    expect(statuses.filter((status) => status >= 200 && status < 300).length).toBeGreaterThanOrEqual(
      Math.ceil(0.95 * statuses.length),
    );
    const answered = outcomes.filter((o) => o.statusLine !== null);
    const refused = outcomes.filter((o) => o.statusLine === null);
    // Those the cap let in were held until the receive timeout, then answered 408 and closed by the server.
    expect(answered.length).toBeGreaterThanOrEqual(MAX_PER_ADDRESS);
    expect(new Set(answered.map((o) => o.statusLine))).toEqual(new Set(['HTTP/1.1 408 Request Timeout']));
    expect(refused.length).toBeGreaterThan(0);
    expect(answered.length + refused.length).toBe(SLOW_CONNECTIONS);
    // A connection that never sent a byte is closed by the server too.
    expect(['', 'HTTP/1.1 408 Request Timeout']).toContain(silentAnswer);
  });
});
