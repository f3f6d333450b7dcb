import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../src/shared/codes.js';
import { SANDBOX_SCENARIOS } from '../src/domain/sandbox.js';
import { OPERATIONS } from '../src/http/openapi/operations.js';
import { outcomeBody } from '../src/http/routes/operator-billing.js';

const root = resolve(import.meta.dirname, '..');
const pages = [
  'README.md',
  ...readdirSync(join(root, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];
const read = (path: string) => readFileSync(join(root, path), 'utf8');

describe('the reference in the repository', () => {
  it('When the README and docs/ link a file, then it is a file inside the repository that exists', () => {
    const broken: string[] = [];
    for (const page of pages) {
      for (const [, target] of read(page).matchAll(/\]\(([^)\s]+)\)/g)) {
        if (!target || /^[a-z]+:/i.test(target) || target.startsWith('#')) continue;
        const file = resolve(root, dirname(page), target.split('#')[0] as string);
        if (relative(root, file).startsWith('..') || !existsSync(file)) broken.push(`${page} -> ${target}`);
      }
    }
    expect(broken).toEqual([]);
  });

  it('When docs/errors.md is read, then it names every error code', () => {
    const errors = read('docs/errors.md');
    expect(ERROR_CODES.filter((code) => !errors.includes(`\`${code}\``))).toEqual([]);
  });

  it('When docs/sandbox.md is read, then its table has every scenario ref with its code', () => {
    const sandbox = read('docs/sandbox.md');
    for (const { externalRef, declineCode } of SANDBOX_SCENARIOS) {
      expect(sandbox).toMatch(new RegExp(`\\|\\s*\`${externalRef}\`\\s*\\|\\s*\`402 ${declineCode}\``));
    }
  });

  it('When docs/ is read, then every /v1 path the API serves is described somewhere', () => {
    const all = pages.map(read).join('\n');
    const missing = [...new Set(OPERATIONS.map((op) => op.path))].filter((path) => {
      const generic = path.replace(/:[A-Za-z]+/g, ':[A-Za-z]+').replace(/\//g, '\\/');
      return !new RegExp(`${generic}(?![\\w-])`).test(all) && !all.includes(path.replace(/\/:[A-Za-z]+/g, '/…'));
    });
    expect(missing).toEqual([]);
  });

  it('When docs/operators.md is read, then it shows every invoice outcome the API takes and who owes whom as money.md does', () => {
    const operators = read('docs/operators.md');
    const statuses = outcomeBody.options.flatMap((option) => {
      const status = option.shape.status;
      return 'options' in status ? status.options : [status.value];
    });
    expect(statuses.sort()).toEqual(['paid', 'partially_paid', 'unpaid']);
    for (const status of statuses) expect(operators).toContain(`{"status": "${status}"`);
    expect(read('docs/money.md')).toMatch(/what Kiosque owes the publisher/i);
    expect(operators).toContain('what Kiosque owes it');
    expect(operators).not.toMatch(/what you owe each publisher/i);
  });

  it('When a publisher has no webhookUrl, then webhooks.md and publishers.md say its events are listed as skipped', () => {
    for (const page of ['docs/webhooks.md', 'docs/publishers.md']) {
      expect(read(page)).toMatch(/(no|without a) `webhookUrl`[^.]*`skipped`/);
    }
  });
});
