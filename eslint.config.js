import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import tseslint from 'typescript-eslint';

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
    // A handler parses, calls the domain, maps errors and presents: it reads and writes through ctx.database and
    // the domain, and opens no transaction.
    files: ['src/http/routes/**/*.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector: "MemberExpression[object.name='ctx'][property.name='db']",
          message: 'Routes go through ctx.database and the domain, never Prisma.',
        },
      ],
    },
  },
  {
    // The store answers the domain and never calls up into it (billing runs and points still read the chart of
    // accounts from the domain).
    files: ['src/store/**/*.ts'],
    ignores: ['src/store/billing-postings.ts', 'src/store/billing-settlement.ts', 'src/store/points.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [{ group: ['**/domain/**', '**/http/**'], message: 'Imports point one way: domain -> store.' }],
        },
      ],
    },
  },
  {
    files: ['workers/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['**/src/http/**'], message: 'Workers call the domain, queues and the store.' }] },
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
  prettier,
);
