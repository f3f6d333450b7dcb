import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import { createNodeResolver, importX } from 'eslint-plugin-import-x';
import tseslint from 'typescript-eslint';

const ONE_DRIVER_PER_JOB = [
  {
    selector:
      'MemberExpression[property.name=/^[$](queryRaw|queryRawUnsafe|executeRaw|executeRawUnsafe|transaction)$/]',
    message: 'SQL text goes through pg (Sql, Statement) and transactions through Database.transaction.',
  },
  {
    selector: "MemberExpression[object.name='Prisma'][property.name=/^(sql|raw|join|empty)$/]",
    message: 'SQL text goes through pg with parameters ($1, $2, ...), not Prisma.sql.',
  },
  {
    // The work of a pg transaction is handed its `sql`; a Database reached from inside it runs outside it.
    selector:
      "CallExpression:matches([callee.property.name='transaction'], [callee.name=/^(respondOnce|inTransaction|inClientTransaction)$/]) > :function Identifier[name='database']",
    message:
      "Inside a pg transaction, work through its `sql`: the Database, and Prisma's typed client on it, is outside the transaction.",
  },
];

/** The files of src/store that use Prisma's typed client, and only it (src/store/database.ts says why). */
const TYPED_CLIENT_FILES = ['src/store/listings.ts', 'src/store/profiles.ts'];

const NO_SQL_IN_TYPED_CLIENT_FILES = [
  {
    selector: 'ImportDeclaration[source.value=/^(pg|[.]\\x2F(sql|db)[.]js)$/]',
    message: "This file uses Prisma's typed client alone: SQL statements belong in the store's pg files.",
  },
  {
    selector: 'MemberExpression[property.name=/^(sql|transaction|pool|rows|query)$/]',
    message: "This file uses Prisma's typed client alone: SQL statements belong in the store's pg files.",
  },
];

const NO_TYPED_CLIENT_IN_PG_FILES = [
  {
    selector: "MemberExpression[property.name='prisma']",
    message:
      "Prisma's typed client is used only in the files src/store/database.ts lists (TYPED_CLIENT_FILES): put the query there.",
  },
  {
    selector: 'ImportDeclaration[source.value=/generated\\x2Fprisma|^@prisma\\x2F/]',
    message:
      "Prisma's typed client is used only in the files src/store/database.ts lists (TYPED_CLIENT_FILES): put the query there.",
  },
];

const DATABASE_HANDLE_CLOSED = [
  {
    selector: "MemberExpression[object.property.name='database'][property.name=/^(prisma|pool)$/]",
    message: 'Only src/store looks inside the database handle: call a store or domain function.',
  },
  {
    selector: "MemberExpression[object.name='database'][property.name=/^(prisma|pool)$/]",
    message: 'Only src/store looks inside the database handle: call a store or domain function.',
  },
];

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', 'src/generated/', 'coverage/', 'test-artifacts/', 'bench/results/'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: { allowDefaultProject: ['scripts/*.mjs', 'eslint.config.js'] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    // Imports point one way and never circle back (README "How it is built"): a cycle is a layer that knows its caller.
    files: ['src/**/*.ts', 'workers/**/*.ts'],
    plugins: { 'import-x': importX },
    settings: {
      'import-x/extensions': ['.ts'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
      'import-x/resolver-next': [createNodeResolver({ extensionAlias: { '.js': ['.ts', '.js'] } })],
    },
    rules: {
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
    },
  },
  {
    // Issue 8: src/store is the only code that knows Prisma, SQL or node-postgres, and hands the domain records.
    files: ['src/domain/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            { name: 'pg', message: 'The domain speaks in records from src/store: put the SQL there.' },
            {
              name: '../store/sql.js',
              importNames: ['SqlOrTx', 'sqlOf', 'onPrisma'],
              message: "The domain holds the store's handles (Sql, Database), which never name Prisma.",
            },
          ],
          patterns: [
            {
              group: ['**/generated/prisma/**', '@prisma/*', '**/store/db.js'],
              message: 'The domain speaks in records from src/store: put the Prisma or SQL there.',
            },
            { group: ['**/http/**'], message: 'Imports point one way: http -> domain -> store.' },
          ],
        },
      ],
    },
  },
  {
    files: ['src/http/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [{ name: 'pg', message: 'HTTP calls the domain or src/store, which hold the SQL.' }],
          patterns: [
            {
              group: ['**/generated/prisma/**', '@prisma/*'],
              message: 'HTTP calls the domain or src/store, which hold the Prisma code and return records.',
            },
          ],
        },
      ],
    },
  },
  {
    // One driver per job (src/store/database.ts): Prisma's typed client or pg with parameterised SQL, never
    // Prisma as a second way to send SQL text.
    files: ['src/**/*.ts', 'workers/**/*.ts'],
    rules: { 'no-restricted-syntax': ['error', ...ONE_DRIVER_PER_JOB] },
  },
  {
    // Above the store, the database is a Database: statements and transactions through the store's functions.
    files: ['src/http/**/*.ts', 'src/domain/**/*.ts', 'workers/**/*.ts'],
    rules: { 'no-restricted-syntax': ['error', ...ONE_DRIVER_PER_JOB, ...DATABASE_HANDLE_CLOSED] },
  },
  {
    // Thin routes: a handler parses, calls the domain, maps errors and presents; the store's records are types.
    files: ['src/http/routes/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/store/**'],
              allowTypeImports: true,
              message: 'Routes call the domain, where the rules are; the store answers the domain.',
            },
          ],
        },
      ],
    },
  },
  {
    // The store answers the domain and never calls up into it, nor into what wires a process together.
    files: ['src/store/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/domain/**', '**/http/**', '**/queue/**', '**/workers/**'],
              message: 'Imports point one way: domain -> store.',
            },
            {
              group: ['**/observability/**', '../config.js', '../server.js', '../logger.js', '../lifecycle.js'],
              message: 'The store is handed its settings and observed by whoever wires the process.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['workers/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/src/http/**', '**/src/server.js'],
              message: 'Workers call the domain, queues and the store; a worker process never loads the HTTP app.',
            },
          ],
        },
      ],
    },
  },
  {
    // Shared values sit below every layer: they import nothing of Kiosque's but each other.
    files: ['src/shared/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['../**'], message: 'src/shared imports nothing of ours: every layer imports it.' }] },
      ],
    },
  },
  {
    // supertest answers untyped JSON bodies; asserting on them is the point of a test.
    files: ['test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
  {
    // One driver per job, file by file (src/store/database.ts): Prisma's typed client in its files, with no SQL;
    // pg in the rest of the store, with no typed client.
    files: TYPED_CLIENT_FILES,
    rules: { 'no-restricted-syntax': ['error', ...ONE_DRIVER_PER_JOB, ...NO_SQL_IN_TYPED_CLIENT_FILES] },
  },
  {
    files: ['src/store/**/*.ts'],
    ignores: [...TYPED_CLIENT_FILES, 'src/store/database.ts'],
    rules: { 'no-restricted-syntax': ['error', ...ONE_DRIVER_PER_JOB, ...NO_TYPED_CLIENT_IN_PG_FILES] },
  },
  prettier,
);
