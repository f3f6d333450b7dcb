import { describe, expect, it } from 'vitest';
import { modulesLoadedBy } from '../support/module-graph.js';

describe('What each process loads', () => {
  it('When the worker process starts, then it loads neither the HTTP app nor the gateway server', () => {
    const loaded = modulesLoadedBy('workers/main.ts');
    expect(loaded.has('workers/billing.ts')).toBe(true);
    expect(loaded.has('src/store/database.ts')).toBe(true);
    // The logger's line scrubber is the one module of src/http a worker needs: it loads nothing of the app.
    expect([...loaded].filter((path) => path.startsWith('src/http/'))).toEqual(['src/http/log-redaction.ts']);
    expect(loaded.has('src/server.ts')).toBe(false);
  });

  it('When the gateway starts, then the same walk finds its app and routes (the walk sees what is there)', () => {
    const loaded = modulesLoadedBy('src/main.ts');
    expect(loaded.has('src/server.ts')).toBe(true);
    expect(loaded.has('src/http/app.ts')).toBe(true);
    expect([...loaded].some((path) => path.startsWith('src/http/routes/'))).toBe(true);
  });
});
