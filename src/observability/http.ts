import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Request, RequestHandler } from 'express';
import { confirmations, countDecline, httpDuration, httpRequests } from './metrics.js';
import { joinTemplate, routeFor } from './route-template.js';

const REQUEST_ID = /^[\w.:-]{1,128}$/;

/**
 * The request id: the caller's `Request-Id` (or `X-Request-Id`) when it is a
 * sane token, so one id follows a request across a load balancer, else a new
 * UUID. It is sent back in the `Request-Id` header, logged by the access log (access-log.ts) and
 * added to every error body.
 */
export function requestId(req: IncomingMessage, res: ServerResponse): string {
  const given = req.headers['request-id'] ?? req.headers['x-request-id'];
  const id = typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
  res.setHeader('Request-Id', id);
  return id;
}

/**
 * Calls `matched` with the route's template ("/v1/purchases/:id/confirm") when
 * Express routes the request to a route. It is read at that moment, while
 * `req.baseUrl` is the mount of the router that holds the route: an error
 * thrown there reaches the app's error handler after Express has restored the
 * base URL, and reading it then would lose the mount's prefix.
 */
function watchRoute(req: Request, matched: (template: string) => void): void {
  let route: unknown = req.route;
  Object.defineProperty(req, 'route', {
    configurable: true,
    enumerable: true,
    get: () => route,
    set(value: unknown) {
      route = value;
      if (typeof value === 'object' && value !== null && 'path' in value && typeof value.path === 'string') {
        matched(joinTemplate(req.baseUrl, value.path));
      }
    },
  });
}

/** The route an answer is counted under, so that ids never become label values. */
function templateOf(req: Request, matched: string | undefined): string {
  if (matched) return matched;
  // Answered before routing reached a route (an authentication middleware's 401): the route it was for.
  const stack = (req.app as unknown as { router: { stack: Parameters<typeof routeFor>[0] } }).router.stack;
  return routeFor(stack, req.method, req.originalUrl.split('?')[0] as string) ?? 'unmatched';
}

interface ErrorBody {
  error: { code?: unknown; requestId?: unknown } & Record<string, unknown>;
}

function isErrorBody(body: unknown): body is ErrorBody {
  return (
    typeof body === 'object' &&
    body !== null &&
    typeof (body as ErrorBody).error === 'object' &&
    (body as ErrorBody).error !== null
  );
}

/**
 * Counts and times every answer by route template, counts confirmations and
 * declines from what the confirm endpoints answered, and puts the request id
 * into every JSON error body (docs/errors.md's body, with one more field).
 */
export function observeHttp(): RequestHandler {
  return (req, res, next) => {
    const started = process.hrtime.bigint();
    let matched: string | undefined;
    watchRoute(req, (template) => (matched = template));
    let errorCode: string | undefined;
    const withRequestId = (body: ErrorBody): ErrorBody => {
      if (typeof body.error.code === 'string') errorCode = body.error.code;
      return { ...body, error: { ...body.error, requestId: req.id } };
    };
    const json = res.json.bind(res);
    res.json = (body: unknown) => json(isErrorBody(body) ? withRequestId(body) : body);
    const send = res.send.bind(res);
    res.send = (body?: unknown) => {
      // Stored idempotent answers are sent as JSON text; only error bodies are parsed again.
      if (
        typeof body === 'string' &&
        body.startsWith('{"error":') &&
        /json/.test(String(res.getHeader('Content-Type')))
      ) {
        const parsed: unknown = JSON.parse(body);
        if (isErrorBody(parsed)) return send(JSON.stringify(withRequestId(parsed)));
      }
      return send(body);
    };
    res.once('finish', () => {
      const template = templateOf(req, matched);
      const status = res.statusCode;
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      httpRequests.inc({ method: req.method, route: template, status: String(status) });
      httpDuration.observe({ method: req.method, route: template }, seconds);
      if (req.method !== 'POST' || !template.endsWith('/confirm')) return;
      const location = res.getHeader('Location');
      if (status === 402 || (typeof location === 'string' && location.includes('kiosque_status=declined'))) {
        countDecline(errorCode);
      } else if (status < 400) {
        confirmations.inc({ kind: template.includes('subscription') ? 'subscription' : 'purchase' });
      }
    });
    next();
  };
}
