import { Writable } from 'node:stream';
import pg from 'pg';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { AUTOVACUUM_OFF_WARNING, warnWithoutAutovacuum } from '../src/start-up.js';
import { TEST_DATABASE_URL } from './support/env.js';
import { useGateway } from './support/world.js';

const gw = useGateway();

/** The server's own answer, asked on a connection of the test's, not through the code under test. */
async function serverAutovacuum(): Promise<string> {
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await client.connect();
  try {
    const { rows } = await client.query<{ autovacuum: string }>('SHOW autovacuum');
    return rows[0]?.autovacuum ?? 'unknown';
  } finally {
    await client.end();
  }
}

describe('A gateway on a PostgreSQL without autovacuum says so at start-up', () => {
  it('When the gateway checks the server it runs on, then it warns exactly when autovacuum is off', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    await warnWithoutAutovacuum(gw.ctx.database, pino({ level: 'info' }, sink));
    const setting = await serverAutovacuum();
    expect(['on', 'off']).toContain(setting);
    const warnings = lines.map((line) => JSON.parse(line) as { level: number; msg: string });
    if (setting === 'off')
      expect(warnings).toEqual([expect.objectContaining({ level: 40, msg: AUTOVACUUM_OFF_WARNING })]);
    else expect(warnings).toEqual([]);
  });
});
