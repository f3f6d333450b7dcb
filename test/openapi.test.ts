import type { Express } from 'express';
import { describe, expect, it } from 'vitest';
import { openApiPath } from '../src/http/openapi/document.js';
import { OPERATIONS } from '../src/http/openapi/operations.js';
import { admin, bearer, createPublisher, startTestGateway } from './support/harness.js';
import { useGateway } from './support/world.js';

interface Layer {
  rawPath?: string | string[];
  route?: { path: string; methods: Record<string, boolean> };
  handle: { stack?: Layer[] };
}

/** Every (method, path) the Express app serves, found by walking its router and the routers mounted in it. */
function servedRoutes(app: Express): string[] {
  const found: string[] = [];
  const walk = (stack: Layer[], prefix: string) => {
    for (const layer of stack) {
      if (layer.route) {
        for (const [method, on] of Object.entries(layer.route.methods)) {
          if (on && method !== '_all') found.push(`${method.toUpperCase()} ${join(prefix, layer.route.path)}`);
        }
      } else if (layer.handle.stack) {
        const mount = typeof layer.rawPath === 'string' ? layer.rawPath : '';
        walk(layer.handle.stack, join(prefix, mount === '/' ? '' : mount));
      }
    }
  };
  const join = (a: string, b: string) => (a + b).replace(/\/+$/, '') || '/';
  walk((app as unknown as { router: { stack: Layer[] } }).router.stack, '');
  return found;
}

const gw = useGateway();

describe('the OpenAPI operations match the routes', () => {
  it('When the router is walked, then every /v1 route has exactly one operation and every operation a route', () => {
    const routes = servedRoutes(gw.app).filter((r) => r.split(' ')[1]?.startsWith('/v1/'));
    const documented = OPERATIONS.map((op) => `${op.method.toUpperCase()} ${op.path}`);
    expect(routes.length).toBeGreaterThan(30);
    expect(new Set(documented).size).toBe(documented.length);
    expect([...routes].sort()).toEqual([...documented].sort());
  });

  it('When a route is added without its operation, then the comparison sees it', async () => {
    const other = startTestGateway();
    try {
      const before = servedRoutes(other.app).length;
      other.app.get('/v1/undocumented', () => undefined);
      expect(servedRoutes(other.app)).toContain('GET /v1/undocumented');
      expect(servedRoutes(other.app).length).toBe(before + 1);
    } finally {
      await other.close();
    }
  });
});

describe('GET /openapi.json', () => {
  it('When fetched, then it is OpenAPI 3.1 with one operation per documented route, secured per actor', async () => {
    const res = await gw.api().get('/openapi.json');
    expect(res.status).toBe(200);
    expect(res.body.openapi).toBe('3.1.0');
    const paths = res.body.paths as Record<
      string,
      Record<string, { security: object[]; responses: Record<string, unknown> }>
    >;
    for (const op of OPERATIONS) {
      const documented = paths[openApiPath(op.path)]?.[op.method];
      expect(documented, `${op.method} ${op.path}`).toBeDefined();
      expect(documented?.security).toEqual(op.actors.map((a) => ({ [a]: [] })));
      expect(Object.keys(documented?.responses ?? {})).toEqual(expect.arrayContaining(['400', '401', '403']));
    }
    expect(Object.keys(res.body.components.securitySchemes).sort()).toEqual([
      'admin',
      'operator',
      'publisher',
      'subscriber',
    ]);
  });

  it('When a request body schema is read, then it is the one that validates: fields, enums, required and no others', async () => {
    const res = await gw.api().get('/openapi.json');
    const create = res.body.paths['/v1/purchases'].post;
    const body = create.requestBody.content['application/json'].schema;
    expect(body.required).toEqual(['amount', 'currency', 'description', 'channel']);
    expect(body.additionalProperties).toBe(false);
    expect(body.properties.channel.enum).toEqual(['isp', 'sms', 'voice']);
    expect(body.properties.amount.pattern).toBe('^\\d+\\.\\d{2}$');
    expect(create.parameters).toEqual([
      expect.objectContaining({ in: 'header', name: 'Idempotency-Key', required: true }),
    ]);
    const list = res.body.paths['/v1/purchases'].get.parameters.map((p: { name: string }) => p.name);
    expect(list).toEqual(['limit', 'cursor', 'status']);
    // What the schema says is refused, the API refuses, and the reverse.
    const publisher = await createPublisher(gw);
    const refused = await gw
      .api()
      .post('/v1/purchases')
      .set(bearer(publisher.apiKey))
      .set('Idempotency-Key', 'k-openapi-1')
      .send({ amount: '1.00', currency: 'EUR', description: 'x', channel: 'fax' });
    expect(refused.body.error.details.fields).toHaveProperty('channel');
  });
});

describe('GET /docs', () => {
  it('When a browser opens /docs, then the page and its scripts come from the gateway under a CSP that allows only them', async () => {
    const page = await gw.api().get('/docs');
    expect(page.status).toBe(200);
    expect(page.type).toBe('text/html');
    expect(page.text).toContain('/docs/assets/swagger-ui-bundle.js');
    expect(page.text).not.toMatch(/https?:\/\//);
    const csp = page.headers['content-security-policy'];
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toMatch(/https?:/);
    expect(csp).toContain("frame-ancestors 'none'");
    const bundle = await gw.api().get('/docs/assets/swagger-ui-bundle.js');
    expect(bundle.status).toBe(200);
    expect(bundle.text.length).toBeGreaterThan(100_000);
    expect((await gw.api().get('/docs/init.js')).text).toContain("url: '/openapi.json'");
    expect((await gw.api().get('/docs/assets/index.html')).status).toBe(404);
  });

  it("When any other page is served, then it keeps the gateway's own CSP, not the one /docs needs", async () => {
    const docs = (await gw.api().get('/docs')).headers['content-security-policy'];
    const other = await gw.api().get('/v1/publisher').set(admin);
    expect(other.headers['content-security-policy']).toContain("default-src 'none'");
    expect(other.headers['content-security-policy']).not.toBe(docs);
    expect(other.headers['content-security-policy']).not.toContain("connect-src 'self'");
  });
});
