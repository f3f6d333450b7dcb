import { readFileSync } from 'node:fs';
import { get_dmmf } from '@prisma/prisma-schema-wasm';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_DATABASE_URL } from './support/env.js';

/**
 * `prisma migrate diff` needs the native schema engine, which cannot be fetched
 * here, so this test does its job: it compares what schema.prisma declares (its
 * DMMF, from Prisma's own WebAssembly parser) with what the SQL migrations built
 * in the test database (migrated by the global setup with src/store/migrate.ts).
 */

interface DmmfField {
  name: string;
  dbName: string | null;
  kind: 'scalar' | 'object' | 'enum';
  isList: boolean;
  isRequired: boolean;
  hasDefaultValue: boolean;
  type: string;
  nativeType: [string, string[]] | null;
  relationFromFields?: string[];
  relationToFields?: string[];
}
interface DmmfModel {
  name: string;
  dbName: string | null;
  fields: DmmfField[];
}
interface DmmfIndex {
  model: string;
  type: 'id' | 'unique' | 'normal' | 'fulltext';
  fields: { name: string }[];
}

function dmmf(schema: string): { models: DmmfModel[]; indexes: DmmfIndex[] } {
  return JSON.parse(get_dmmf(JSON.stringify({ prismaSchema: [['schema.prisma', schema]] }))).datamodel;
}

function expectedSqlType(field: DmmfField): string {
  const [native, args] = field.nativeType ?? [null, []];
  switch (field.type) {
    case 'String':
      return field.isList ? 'text[]' : 'text';
    case 'Int':
      return 'integer';
    case 'BigInt':
      return 'bigint';
    case 'Boolean':
      return 'boolean';
    case 'Json':
      return 'jsonb';
    case 'DateTime':
      return native === 'Timestamptz' ? `timestamptz(${args[0] ?? 6})` : `timestamp(${args[0] ?? 3})`;
    case 'Decimal':
      return native === 'Decimal' ? `numeric(${args[0]},${args[1]})` : 'numeric(65,30)';
    default:
      return `unsupported ${field.type}`;
  }
}

interface DbSchema {
  columns: Map<string, Map<string, { type: string; nullable: boolean; hasDefault: boolean }>>;
  indexes: Map<string, Set<string>>;
  foreignKeys: Set<string>;
}

async function readDatabase(client: pg.Client): Promise<DbSchema> {
  const columns = new Map<string, Map<string, { type: string; nullable: boolean; hasDefault: boolean }>>();
  const { rows: cols } = await client.query<{
    table_name: string;
    column_name: string;
    data_type: string;
    udt_name: string;
    is_nullable: string;
    column_default: string | null;
    numeric_precision: number | null;
    numeric_scale: number | null;
    datetime_precision: number | null;
  }>(`SELECT table_name, column_name, data_type, udt_name, is_nullable, column_default, numeric_precision, numeric_scale, datetime_precision
      FROM information_schema.columns WHERE table_schema = 'public' AND table_name <> '_prisma_migrations'`);
  for (const c of cols) {
    const type =
      c.data_type === 'numeric'
        ? `numeric(${c.numeric_precision},${c.numeric_scale})`
        : c.data_type === 'timestamp with time zone'
          ? `timestamptz(${c.datetime_precision})`
          : c.data_type === 'timestamp without time zone'
            ? `timestamp(${c.datetime_precision})`
            : c.data_type === 'ARRAY'
              ? `${c.udt_name.replace(/^_/, '')}[]`
              : c.data_type;
    const table = columns.get(c.table_name) ?? new Map();
    table.set(c.column_name, { type, nullable: c.is_nullable === 'YES', hasDefault: c.column_default !== null });
    columns.set(c.table_name, table);
  }
  // Partial indexes (WHERE …) are SQL-only guards Prisma cannot express; only full ones must match.
  const { rows: idx } = await client.query<{ table: string; unique: boolean; cols: string[] }>(`
    SELECT t.relname AS table, i.indisunique AS unique,
           array_agg(a.attname::text ORDER BY k.ord) AS cols
    FROM pg_index i
    JOIN pg_class t ON t.oid = i.indrelid
    JOIN pg_namespace n ON n.oid = t.relnamespace AND n.nspname = 'public'
    CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
    JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum
    WHERE i.indpred IS NULL AND t.relname <> '_prisma_migrations'
    GROUP BY i.indexrelid, t.relname, i.indisunique`);
  const indexes = new Map<string, Set<string>>();
  for (const i of idx) {
    const set = indexes.get(i.table) ?? new Set<string>();
    set.add(`${i.unique ? 'unique' : 'index'}(${i.cols.join(',')})`);
    indexes.set(i.table, set);
  }
  const { rows: fks } = await client.query<{ fk: string }>(`
    SELECT format('%s(%s)->%s(%s)', t.relname,
             (SELECT string_agg(a.attname, ',' ORDER BY k.ord) FROM unnest(c.conkey) WITH ORDINALITY k(n, ord) JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n),
             r.relname,
             (SELECT string_agg(a.attname, ',' ORDER BY k.ord) FROM unnest(c.confkey) WITH ORDINALITY k(n, ord) JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.n)) AS fk
    FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid JOIN pg_class r ON r.oid = c.confrelid
    JOIN pg_namespace n ON n.oid = t.relnamespace AND n.nspname = 'public'
    WHERE c.contype = 'f'`);
  return { columns, indexes, foreignKeys: new Set(fks.map((f) => f.fk)) };
}

/** Every difference between the Prisma schema and the database, as readable lines. */
function drift(schema: string, db: DbSchema): string[] {
  const { models, indexes } = dmmf(schema);
  const problems: string[] = [];
  const tableOf = new Map(models.map((m) => [m.name, m.dbName ?? m.name]));
  const columnOf = (model: DmmfModel, field: string) => {
    const f = model.fields.find((x) => x.name === field);
    return f?.dbName ?? field;
  };
  const expectedIndexes = new Map<string, Set<string>>();
  const expectedFks = new Set<string>();
  for (const model of models) {
    const table = tableOf.get(model.name) as string;
    const actual = db.columns.get(table);
    if (!actual) {
      problems.push(`table ${table} (model ${model.name}) is missing from the migrations`);
      continue;
    }
    const declared = new Set<string>();
    for (const field of model.fields) {
      if (field.kind === 'object') {
        if (field.relationFromFields?.length) {
          const target = models.find((m) => m.name === field.type) as DmmfModel;
          expectedFks.add(
            `${table}(${field.relationFromFields.map((f) => columnOf(model, f)).join(',')})->${tableOf.get(field.type)}(${(field.relationToFields ?? []).map((f) => columnOf(target, f)).join(',')})`,
          );
        }
        continue;
      }
      const column = field.dbName ?? field.name;
      declared.add(column);
      const found = actual.get(column);
      if (!found) {
        problems.push(`${table}.${column} is declared in schema.prisma but not created by the migrations`);
        continue;
      }
      const type = expectedSqlType(field);
      if (found.type !== type) problems.push(`${table}.${column} is ${found.type} in SQL but ${type} in schema.prisma`);
      if (!field.isList && found.nullable === field.isRequired) {
        problems.push(
          `${table}.${column} is ${found.nullable ? 'nullable' : 'NOT NULL'} in SQL but ${field.isRequired ? 'required' : 'optional'} in schema.prisma`,
        );
      }
      if (found.hasDefault !== field.hasDefaultValue) {
        problems.push(
          `${table}.${column} ${found.hasDefault ? 'has' : 'has no'} default in SQL but ${field.hasDefaultValue ? 'has' : 'has no'} @default in schema.prisma`,
        );
      }
    }
    for (const column of actual.keys()) {
      if (!declared.has(column)) problems.push(`${table}.${column} exists in SQL but not in schema.prisma`);
    }
  }
  for (const table of db.columns.keys()) {
    if (![...tableOf.values()].includes(table)) problems.push(`table ${table} exists in SQL but has no model`);
  }
  for (const index of indexes) {
    const model = models.find((m) => m.name === index.model) as DmmfModel;
    const table = tableOf.get(index.model) as string;
    const set = expectedIndexes.get(table) ?? new Set<string>();
    set.add(
      `${index.type === 'normal' ? 'index' : 'unique'}(${index.fields.map((f) => columnOf(model, f.name)).join(',')})`,
    );
    expectedIndexes.set(table, set);
  }
  for (const table of new Set([...expectedIndexes.keys(), ...db.indexes.keys()])) {
    const want = expectedIndexes.get(table) ?? new Set();
    const have = db.indexes.get(table) ?? new Set();
    for (const i of want)
      if (!have.has(i)) problems.push(`${table}: ${i} is declared in schema.prisma but missing in SQL`);
    for (const i of have) if (!want.has(i)) problems.push(`${table}: ${i} exists in SQL but not in schema.prisma`);
  }
  for (const fk of expectedFks)
    if (!db.foreignKeys.has(fk)) problems.push(`foreign key ${fk} is declared in schema.prisma but missing in SQL`);
  for (const fk of db.foreignKeys)
    if (!expectedFks.has(fk)) problems.push(`foreign key ${fk} exists in SQL but not in schema.prisma`);
  return problems;
}

describe('schema.prisma and prisma/migrations', () => {
  const schema = readFileSync(new URL('../prisma/schema.prisma', import.meta.url), 'utf8');
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
  let database: DbSchema;

  beforeAll(async () => {
    await client.connect();
    database = await readDatabase(client);
  });
  afterAll(() => client.end());

  it('When the migrations are applied, then the database matches schema.prisma exactly', () => {
    expect(drift(schema, database)).toEqual([]);
  });

  it('When schema.prisma gains a column the SQL lacks, then the comparison reports it', () => {
    const edited = schema.replace('model Operator {\n', 'model Operator {\n  nickname String?\n');
    expect(drift(edited, database)).toContain(
      'operators.nickname is declared in schema.prisma but not created by the migrations',
    );
  });

  it('When a type, a nullability or an index differs, then the comparison reports each', () => {
    const edited = schema
      .replace(
        'amount                 Decimal   @db.Decimal(12, 2)',
        'amount                 Decimal   @db.Decimal(10, 2)',
      )
      .replace('displayName       String?', 'displayName       String')
      .replace('  @@index([holderId])\n', '');
    const problems = drift(edited, database);
    expect(problems).toContain('purchases.amount is numeric(12,2) in SQL but numeric(10,2) in schema.prisma');
    expect(problems).toContain('subscribers.display_name is nullable in SQL but required in schema.prisma');
    expect(problems).toContain('subscribers: index(holder_id) exists in SQL but not in schema.prisma');
  });
});
