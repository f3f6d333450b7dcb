import { createServer, type RequestListener, type Server } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';

export interface ConnectionLimits {
  /** A request must have fully arrived this long after its first byte; a connection that sends nothing, after it opened. */
  receiveTimeoutMs: number;
  /** Connections held at once from one peer address; 0 for no cap. */
  maxPerAddress: number;
}

/**
 * Idle keep-alive connections are kept a little longer than the 60 s a load
 * balancer commonly keeps its own, so that it, not the gateway, closes them
 * (else it may send a request down a connection being closed).
 */
const KEEP_ALIVE_TIMEOUT_MS = 65_000;

/**
 * Node looks for requests past their timeout only every
 * `connectionsCheckingInterval` (30 s by default, which would let a slow
 * client keep its connection twice as long as promised): a tenth of the
 * timeout, at most a second.
 */
function checkingIntervalMs(receiveTimeoutMs: number): number {
  return Math.min(1000, Math.max(50, Math.floor(receiveTimeoutMs / 10)));
}

/**
 * Caps the connections one address holds, whatever they do (idle, sending
 * slowly, waiting for an answer), and closes a connection that has sent
 * nothing once the receive timeout has passed: Node's own timeouts start at a
 * request's first byte, and an idle connection it never times out.
 */
function guardConnections(server: Server, limits: ConnectionLimits, logger: Logger): void {
  const perAddress = new Map<string, number>();
  /** Addresses told about in the log since they last held no connection: one line per episode, not per reset. */
  const reported = new Set<string>();
  server.on('connection', (socket: Socket) => {
    const address = socket.remoteAddress ?? 'unknown';
    const held = perAddress.get(address) ?? 0;
    if (limits.maxPerAddress > 0 && held >= limits.maxPerAddress) {
      socket.destroy();
      if (!reported.has(address)) {
        reported.add(address);
        logger.warn(
          { address, maxConnectionsPerAddress: limits.maxPerAddress },
          'an address holds as many connections as it may; further ones are reset',
        );
      }
      return;
    }
    perAddress.set(address, held + 1);
    const silent = setTimeout(() => {
      if (socket.bytesRead === 0) socket.destroy();
    }, limits.receiveTimeoutMs);
    silent.unref();
    socket.once('close', () => {
      clearTimeout(silent);
      const left = (perAddress.get(address) ?? 1) - 1;
      if (left > 0) perAddress.set(address, left);
      else {
        perAddress.delete(address);
        reported.delete(address);
      }
    });
  });
}

/**
 * The gateway's HTTP server: requests that have not fully arrived
 * `receiveTimeoutMs` after their first byte are answered 408 and their
 * connection closed, and no address holds more than `maxPerAddress`
 * connections. A client sending slowly, or opening many connections, then
 * costs a bounded number of sockets for a bounded time, and never a request
 * slot (the body is read before a request counts as in flight, src/http/app.ts).
 */
export function createGuardedServer(app: RequestListener, limits: ConnectionLimits, logger: Logger): Server {
  const server = createServer(
    {
      requestTimeout: limits.receiveTimeoutMs,
      headersTimeout: limits.receiveTimeoutMs,
      connectionsCheckingInterval: checkingIntervalMs(limits.receiveTimeoutMs),
      keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
    },
    app,
  );
  guardConnections(server, limits, logger);
  return server;
}
