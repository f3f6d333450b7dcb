import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Express, Request, RequestHandler, Response } from 'express';
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

/** Where a request keeps what the app learnt of it while answering, for the line of metrics at the end. */
const MATCHED_TEMPLATE = Symbol('matched route template');
const ANSWERED_ERROR_CODE = Symbol('answered error code');
const ROUTE = Symbol('route');

interface Observed {
  [MATCHED_TEMPLATE]?: string;
  [ANSWERED_ERROR_CODE]?: string;
  [ROUTE]?: unknown;
}

/**
 * Records the route's template ("/v1/purchases/:id/confirm") on the request
 * when Express routes it there. It is read at that moment, while `req.baseUrl`
 * is the mount of the router that holds the route: an error thrown there
 * reaches the app's error handler after Express has restored the base URL,
 * and reading it then would lose the mount's prefix. The accessor is set once
 * on the app's request prototype, not on each request.
 */
function watchRoutes(app: Express): void {
  Object.defineProperty(app.request, 'route', {
    configurable: true,
    get(this: Observed) {
      return this[ROUTE];
    },
    set(this: Request & Observed, value: unknown) {
      this[ROUTE] = value;
      if (typeof value === 'object' && value !== null && 'path' in value && typeof value.path === 'string') {
        this[MATCHED_TEMPLATE] = joinTemplate(this.baseUrl, value.path);
      }
    },
  });
}

/** The route an answer is counted under, so that ids never become label values. */
function templateOf(req: Request & Observed): string {
  const matched = req[MATCHED_TEMPLATE];
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
 * Puts the request id into every JSON error body (docs/errors.md's body, with
 * one more field) and keeps its code for the metrics. Express's `res.json`
 * sends through `res.send`, and stored idempotent answers are sent as JSON
 * text, so `send` on the app's response prototype sees every body; only error
 * bodies are parsed again.
 */
function addRequestIdToErrors(app: Express): void {
  const send = app.response.send;
  app.response.send = function sendWithRequestId(this: Response & Observed, body?: unknown) {
    if (
      typeof body === 'string' &&
      body.startsWith('{"error":') &&
      /json/.test(String(this.getHeader('Content-Type')))
    ) {
      const parsed: unknown = JSON.parse(body);
      if (isErrorBody(parsed)) {
        if (typeof parsed.error.code === 'string') this[ANSWERED_ERROR_CODE] = parsed.error.code;
        return send.call(this, JSON.stringify({ ...parsed, error: { ...parsed.error, requestId: this.req.id } }));
      }
    }
    return send.call(this, body);
  };
}

/**
 * Counts and times every answer by route template, counts confirmations and
 * declines from what the confirm endpoints answered, and adds the request id
 * to error bodies.
 */
export function observeHttp(app: Express): RequestHandler {
  watchRoutes(app);
  addRequestIdToErrors(app);
  return (req, res, next) => {
    const started = process.hrtime.bigint();
    res.once('finish', () => {
      const template = templateOf(req);
      const status = res.statusCode;
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      httpRequests.inc({ method: req.method, route: template, status: String(status) });
      httpDuration.observe({ method: req.method, route: template }, seconds);
      if (req.method !== 'POST' || !template.endsWith('/confirm')) return;
      const location = res.getHeader('Location');
      if (status === 402 || (typeof location === 'string' && location.includes('kiosque_status=declined'))) {
        countDecline((res as Response & Observed)[ANSWERED_ERROR_CODE]);
      } else if (status < 400) {
        confirmations.inc({ kind: template.includes('subscription') ? 'subscription' : 'purchase' });
      }
    });
    next();
  };
}
