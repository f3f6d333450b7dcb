import { Router, static as serveStatic } from 'express';
import swaggerUiDist from 'swagger-ui-dist';
import { buildOpenApiDocument } from '../openapi/document.js';
import { OPERATIONS } from '../openapi/operations.js';
import type { AppContext } from '../context.js';

/** The version of the HTTP contract the document describes (docs/), not of the package. */
export const API_VERSION = '1.1';

/**
 * Swagger UI runs scripts and sets inline styles, so /docs alone gets a CSP
 * that allows its own files (and nothing from elsewhere); every other page
 * keeps default-src 'none'.
 */
const DOCS_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Kiosque API reference</title>
<link rel="stylesheet" href="/docs/assets/swagger-ui.css">
<link rel="icon" type="image/png" href="/docs/assets/favicon-32x32.png">
</head>
<body>
<div id="reference"></div>
<script src="/docs/assets/swagger-ui-bundle.js"></script>
<script src="/docs/init.js"></script>
</body>
</html>
`;

const INIT = `window.ui = SwaggerUIBundle({ url: '/openapi.json', dom_id: '#reference', deepLinking: true });\n`;

/** Only what the page loads is served from the npm package, not its demo files. */
const ASSETS = new Set([
  '/swagger-ui.css',
  '/swagger-ui-bundle.js',
  '/swagger-ui-bundle.js.map',
  '/swagger-ui.css.map',
  '/favicon-32x32.png',
]);

/** GET /openapi.json and the browsable GET /docs, both served by the gateway itself. */
export function docsRoutes(ctx: AppContext): Router {
  const router = Router();
  let document: ReturnType<typeof buildOpenApiDocument> | null = null;

  router.get('/openapi.json', (_req, res) => {
    document ??= buildOpenApiDocument(OPERATIONS, { version: API_VERSION, serverUrl: ctx.config.publicUrl });
    res.json(document);
  });

  const docs = Router();
  docs.use((_req, res, next) => {
    res.setHeader('Content-Security-Policy', DOCS_CSP);
    next();
  });
  docs.get('/', (_req, res) => {
    res.type('html').send(PAGE);
  });
  docs.get('/init.js', (_req, res) => {
    res.type('text/javascript').send(INIT);
  });
  docs.use('/assets', (req, res, next) => (ASSETS.has(req.path) ? next() : res.status(404).end()));
  docs.use('/assets', serveStatic(swaggerUiDist.getAbsoluteFSPath(), { index: false, maxAge: '1d' }));
  router.use('/docs', docs);
  return router;
}
