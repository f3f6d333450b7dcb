import { Writable } from 'node:stream';
import express from 'express';
import { pino } from 'pino';
import supertest from 'supertest';
import { describe, expect, it } from 'vitest';
import { accessLog } from '../../src/observability/access-log.js';

function appLoggingAt(level: string) {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  const app = express();
  let finishListeners = -1;
  app.use(accessLog(pino({ level }, sink), (url) => url.replace(/secret=[^&]+/, 'secret=[redacted]')));
  app.use((_req, res, next) => {
    finishListeners = res.listenerCount('finish');
    next();
  });
  app.get('/healthz', (_req, res) => res.json({ status: 'ok' }));
  app.get('/fails', (_req, res) => res.status(503).json({ error: { code: 'unavailable' } }));
  app.get('/{*rest}', (req, res) => res.json({ id: req.id }));
  return { app, lines, listeners: () => finishListeners };
}

describe('accessLog', () => {
  it('When info is logged, then each request has one line with its id, method, redacted URL, status and time', async () => {
    const { app, lines } = appLoggingAt('info');
    const res = await supertest(app).get('/v1/purchases?secret=abc&page=2').set('Request-Id', 'req-42');
    expect(res.body).toEqual({ id: 'req-42' });
    expect(res.headers['request-id']).toBe('req-42');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      level: 30,
      msg: 'request completed',
      req: { id: 'req-42', method: 'GET', url: '/v1/purchases?secret=[redacted]&page=2' },
      res: { statusCode: 200 },
    });
    expect(typeof lines[0]?.responseTime).toBe('number');
  });

  it('When an answer is a 5xx, then its line says the request errored', async () => {
    const { app, lines } = appLoggingAt('info');
    await supertest(app).get('/fails');
    expect(lines).toMatchObject([{ msg: 'request errored', res: { statusCode: 503 } }]);
  });

  it('When probes poll /healthz, then no line is written for them', async () => {
    const { app, lines } = appLoggingAt('info');
    await supertest(app).get('/healthz');
    await supertest(app).get('/anything');
    expect(lines.map((line) => (line.req as { url: string }).url)).toEqual(['/anything']);
  });

  it('When the level is above info, then requests still get an id but no line and no listener', async () => {
    const quiet = appLoggingAt('warn');
    const logging = appLoggingAt('info');
    const res = await supertest(quiet.app).get('/anything');
    await supertest(logging.app).get('/anything');
    expect(res.body.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(quiet.lines).toHaveLength(0);
    expect(logging.listeners() - quiet.listeners()).toBe(1);
  });
});
