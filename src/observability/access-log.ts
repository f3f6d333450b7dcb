import type { RequestHandler } from 'express';
import type { Logger } from 'pino';
import { requestId } from './http.js';

declare module 'http' {
  interface IncomingMessage {
    /** The request id (src/observability/http.ts), set first thing for every request. */
    id: string;
  }
}

/** Probes and scrapers poll these: a line for each would bury the requests worth reading. */
const UNLOGGED_PATHS = new Set(['/healthz', '/readyz', '/metrics']);

/**
 * Gives each request its id and logs one line per request at info, once its
 * answer is finished or its client has gone:
 * `{"req":{"id","method","url"},"res":{"statusCode"},"responseTime":ms}`, the
 * URL with credentials redacted. Nothing is built for the line until it is
 * written, and no listener is added when info is not logged: a per-request
 * child logger would serialize and redact every request's URL even at `warn`,
 * measurable on the purchase path (BENCHMARKS.md, issue 22).
 */
export function accessLog(logger: Logger, redactUrl: (url: string) => string): RequestHandler {
  const logsRequests = logger.isLevelEnabled('info');
  return (req, res, next) => {
    req.id = requestId(req, res);
    if (!logsRequests || UNLOGGED_PATHS.has(req.url)) {
      next();
      return;
    }
    const startedMs = Date.now();
    const answered = () => {
      res.off('finish', answered);
      res.off('close', answered);
      const statusCode = res.statusCode;
      logger.info(
        {
          req: { id: req.id, method: req.method, url: redactUrl(req.originalUrl) },
          res: { statusCode },
          responseTime: Date.now() - startedMs,
        },
        statusCode >= 500 ? 'request errored' : 'request completed',
      );
    };
    res.on('finish', answered);
    res.on('close', answered);
    next();
  };
}
