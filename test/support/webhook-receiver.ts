import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedWebhook {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** Decides the answer to the n-th request (0-based); the default answers 200. */
export type Responder = (request: ReceivedWebhook, n: number, res: ServerResponse) => void;

export interface WebhookReceiver {
  /** Base URL on 127.0.0.1, e.g. http://127.0.0.1:41234/hooks */
  url: string;
  received: ReceivedWebhook[];
  /** Resolves once `count` requests arrived; rejects after `withinMs` so a test fails instead of hanging. */
  waitFor(count: number, withinMs?: number): Promise<ReceivedWebhook[]>;
  close(): Promise<void>;
}

export const answerWith =
  (...statuses: number[]): Responder =>
  (_request, n, res) => {
    res.statusCode = statuses[Math.min(n, statuses.length - 1)] ?? 200;
    res.end();
  };

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** A publisher's webhook endpoint, on the loopback interface, that records every request it gets. */
export async function startWebhookReceiver(respond: Responder = answerWith(200)): Promise<WebhookReceiver> {
  const received: ReceivedWebhook[] = [];
  const server = createServer((req, res) => {
    const { url, headers } = req;
    void readBody(req).then((body) => {
      const request = { path: url ?? '/', headers, body };
      const n = received.length;
      received.push(request);
      respond(request, n, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks`,
    received,
    async waitFor(count, withinMs = 20_000) {
      const deadline = Date.now() + withinMs;
      while (received.length < count) {
        if (Date.now() > deadline) throw new Error(`expected ${count} webhook requests, got ${received.length}`);
        await new Promise((r) => setTimeout(r, 25));
      }
      return received;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
