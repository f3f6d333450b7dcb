import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Decimal } from '../src/shared/money.js';
import { openDatabase, type Connection } from '../src/store/database.js';
import { postEntry } from '../src/store/ledger.js';
import { unbalancedEntries } from './support/journal.js';
import { TEST_DATABASE_URL } from './support/env.js';
import { unique } from './support/harness.js';

let database: Connection;
let db: Connection['prisma'];
beforeAll(() => {
  database = openDatabase(TEST_DATABASE_URL, 2);
  db = database.prisma;
});
afterAll(() => database.close());

const d = (v: string) => new Decimal(v);

async function balancedEntry(key: string): Promise<bigint> {
  await database.transaction((sql) =>
    postEntry(sql, {
      key,
      kind: 'test',
      postings: [
        { account: `test:${key}:a`, amount: d('1.00') },
        { account: `test:${key}:b`, amount: d('-1.00') },
      ],
    }),
  );
  const entry = await db.ledgerEntry.findUniqueOrThrow({ where: { key } });
  return entry.id;
}

describe('The journal is append-only and balanced, enforced by PostgreSQL', () => {
  it('When a posting is updated or deleted, or the journal truncated, then the database refuses', async () => {
    const id = await balancedEntry(unique('append-only'));
    await expect(
      db.$executeRaw`UPDATE ledger_postings SET amount = 2 WHERE entry_id = ${id} AND amount > 0`,
    ).rejects.toThrow(/append-only/);
    await expect(db.$executeRaw`DELETE FROM ledger_postings WHERE entry_id = ${id}`).rejects.toThrow(/append-only/);
    await expect(db.$executeRaw`DELETE FROM ledger_entries WHERE id = ${id}`).rejects.toThrow(/append-only/);
    await expect(db.$executeRaw`TRUNCATE ledger_postings CASCADE`).rejects.toThrow(/append-only/);
    expect(await db.ledgerPosting.count({ where: { entryId: id } })).toBe(2);
  });

  it('When an entry does not balance, then its statement fails and nothing of it is stored', async () => {
    const key = unique('unbalanced');
    await expect(
      database.transaction((sql) =>
        postEntry(sql, {
          key,
          kind: 'test',
          postings: [
            { account: 'test:a', amount: d('1.00') },
            { account: 'test:b', amount: d('-0.99') },
          ],
        }),
      ),
    ).rejects.toThrow(/unbalanced/);
    expect(await db.ledgerEntry.count({ where: { key } })).toBe(0);
  });

  it('When postings are added to an existing entry later and unbalance it, then the database refuses', async () => {
    const id = await balancedEntry(unique('late-posting'));
    await expect(
      db.$executeRaw`INSERT INTO ledger_postings (entry_id, account, amount) VALUES (${id}, 'test:late', 5)`,
    ).rejects.toThrow(/unbalanced/);
  });

  it('When an entry is written with no postings, then the commit fails', async () => {
    const key = unique('empty');
    await expect(
      database.transaction((sql) =>
        sql.rows({ name: 'test_empty_entry', text: 'INSERT INTO ledger_entries (key, kind) VALUES ($1, $2)' }, [
          key,
          'test',
        ]),
      ),
    ).rejects.toThrow(/no postings/);
    expect(await db.ledgerEntry.count({ where: { key } })).toBe(0);
  });

  it('When an entry is posted twice under one key, then the second changes nothing', async () => {
    const key = unique('twice');
    await balancedEntry(key);
    const again = await database.transaction((sql) =>
      postEntry(sql, {
        key,
        kind: 'test',
        postings: [
          { account: 'test:x', amount: d('9.00') },
          { account: 'test:y', amount: d('-9.00') },
        ],
      }),
    );
    expect(again).toBe(false);
    const entry = await db.ledgerEntry.findUniqueOrThrow({ where: { key }, include: { postings: true } });
    expect(entry.postings.map((p) => p.amount.toFixed(2)).sort()).toEqual(['-1.00', '1.00']);
    expect(await unbalancedEntries(db)).toEqual([]);
  });
});
