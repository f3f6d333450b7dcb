import { lookup as dnsLookup } from 'node:dns';
import { request as httpRequest, type ClientRequest, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';
import type { WebhookHeaders } from './webhook-signing.js';
import { isPublicAddress } from './webhook-url.js';

export interface SendOptions {
  timeoutMs: number;
  allowPrivateNetworks: boolean;
}

/** What one HTTP call gave: a status code, or why there was none. */
export type SendResult = { statusCode: number; durationMs: number } | { error: string; durationMs: number };

const PRIVATE_ADDRESS = 'EWEBHOOKPRIVATE';

/**
 * Resolves like the system does, then refuses any non-public answer. The check
 * runs on the very addresses the socket connects to, so a DNS answer that
 * changed since webhookUrlProblem looked (DNS rebinding) cannot reach inside.
 */
export const publicOnlyLookup: LookupFunction = (hostname, options, callback) => {
  dnsLookup(hostname, { ...options, all: true }, (error, addresses) => {
    if (error) return callback(error, '');
    const refused = addresses.find((a) => !isPublicAddress(a.address));
    if (refused) {
      const denial: NodeJS.ErrnoException = new Error(
        `${hostname} resolves to the non-public address ${refused.address}`,
      );
      denial.code = PRIVATE_ADDRESS;
      return callback(denial, '');
    }
    const first = addresses[0];
    if (options.all) return callback(null, addresses);
    if (!first) return callback(new Error(`${hostname} does not resolve`), '');
    callback(null, first.address, first.family);
  });
};

function describe(error: unknown, timeoutMs: number): string {
  const err = error as NodeJS.ErrnoException;
  if (err.name === 'TimeoutError' || err.name === 'AbortError') return `timed out after ${timeoutMs} ms`;
  if (err.code === PRIVATE_ADDRESS) return `refused: ${err.message}`;
  return err.code ? `${err.code}: ${err.message}` : err.message;
}

/**
 * POSTs one signed webhook. Redirects are not followed (a 3xx is just a
 * non-2xx answer), the whole call is bounded by timeoutMs, and nothing but a
 * public address is connected to unless private networks are allowed.
 */
export function sendWebhook(
  url: string,
  body: string,
  headers: WebhookHeaders,
  options: SendOptions,
): Promise<SendResult> {
  const startedAt = performance.now();
  const elapsed = () => Math.round(performance.now() - startedAt);
  return new Promise((resolve) => {
    let target: URL;
    try {
      target = new URL(url);
    } catch {
      return resolve({ error: 'not a URL', durationMs: 0 });
    }
    const host = target.hostname.replace(/^\[|\]$/g, '');
    if (!options.allowPrivateNetworks && ipaddr.isValid(host) && !isPublicAddress(host)) {
      return resolve({ error: `refused: ${host} is not a public address`, durationMs: 0 });
    }
    const request = target.protocol === 'https:' ? httpsRequest : target.protocol === 'http:' ? httpRequest : null;
    if (!request) return resolve({ error: `unsupported protocol ${target.protocol}`, durationMs: 0 });

    const requestOptions: RequestOptions = {
      method: 'POST',
      headers: {
        ...headers,
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(body),
        'user-agent': 'Kiosque-Webhooks/1',
      },
      // A fresh connection per call: pooled sockets would outlive the lookup check.
      agent: false,
      signal: AbortSignal.timeout(options.timeoutMs),
      ...(options.allowPrivateNetworks ? {} : { lookup: publicOnlyLookup }),
    };
    let settled = false;
    const settle = (result: SendResult) => {
      if (settled) return;
      settled = true;
      resolve(result);
    };
    const call: ClientRequest = request(target, requestOptions, (response) => {
      // Only the status matters; the body is drained so the socket closes cleanly.
      response.resume();
      response.on('error', () => undefined);
      settle({ statusCode: response.statusCode ?? 0, durationMs: elapsed() });
    });
    call.on('error', (error) => settle({ error: describe(error, options.timeoutMs), durationMs: elapsed() }));
    call.end(body);
  });
}
