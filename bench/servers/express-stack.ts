import express from 'express';
import helmet from 'helmet';
import { loadConfig } from '../../src/config.js';
import type { AppContext } from '../../src/http/context.js';
import { BODY_LIMIT } from '../../src/http/app.js';
import { urlRedactor } from '../../src/http/log-redaction.js';
import { accessLog } from '../../src/observability/access-log.js';
import { rateLimit } from '../../src/http/rate-limit.js';
import { createLogger } from '../../src/logger.js';
import { openDatabase } from '../../src/store/database.js';
import { createRedis } from '../../src/store/redis.js';
import { CONSTANT_REPLY } from './reply.js';

/**
 * Kiosque's middleware stack as src/http/app.ts builds it (the access log at
 * the configured level, helmet with the same policy, the JSON parser, the Redis rate
 * limiter under /v1), in front of a handler that does no work. The difference to
 * the bare server is what the framework costs; set RATE_LIMIT_PER_MINUTE=0 to
 * leave Redis out of it.
 */
const config = loadConfig();
const logger = createLogger(config.logLevel);
const redis = createRedis(config.redisUrl);
// The pool connects lazily: it is never queried, it only completes the context the limiter's type asks for.
const ctx: AppContext = { config, database: openDatabase(config.databaseUrl, 1), redis, logger };

const app = express();
app.disable('x-powered-by');
app.set('trust proxy', false);
app.use(accessLog(logger, urlRedactor([config.adminApiKey])));
app.use(helmet({ contentSecurityPolicy: { directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] } } }));
app.get('/healthz', (_req, res) => {
  res.json({ status: 'ok' });
});
app.use(express.json({ limit: BODY_LIMIT, strict: true }));
const v1 = express.Router();
v1.use(rateLimit(ctx));
v1.post('/purchases', (_req, res) => {
  res.type('application/json').send(CONSTANT_REPLY);
});
app.use('/v1', v1);

const server = app.listen(config.port, '127.0.0.1');
server.keepAliveTimeout = 65_000;
process.on('SIGINT', () =>
  server.close(() => {
    redis.disconnect();
    process.exit(0);
  }),
);
