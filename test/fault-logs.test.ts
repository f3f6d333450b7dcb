import { existsSync, readFileSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { freePort } from './support/private-redis.js';
import { FAULT_LOG_DIR, TrafficLog } from './faults/support/traffic.js';

let passedTestLog = '';

describe('fault suite traffic logs', () => {
  it('When a fault test sends traffic, then every exchange is written under test-artifacts/, which git ignores', async () => {
    const log = new TrafficLog('fault-logs-check');
    await log.open();
    const exchange = await log.send(`http://127.0.0.1:${await freePort()}`, 'GET', '/healthz', { timeoutMs: 2_000 });
    expect(exchange.error).not.toBeNull();
    await log.flush();
    passedTestLog = log.file;
    expect(relative(resolve(import.meta.dirname, '..'), log.file)).toMatch(/^test-artifacts\/faults\//);
    expect(readFileSync(resolve(import.meta.dirname, '..', '.gitignore'), 'utf8')).toMatch(/^test-artifacts\/$/m);
    expect(JSON.parse(readFileSync(log.file, 'utf8').trim())).toMatchObject({ method: 'GET', path: '/healthz' });
    expect(log.file.startsWith(FAULT_LOG_DIR)).toBe(true);
  });

  it('When that test passed, then its log was removed', () => {
    expect(passedTestLog).not.toBe('');
    expect(existsSync(passedTestLog)).toBe(false);
  });
});
