import express, { Router } from 'express';
import { z } from 'zod';
import { bankStatement, importBankStatement } from '../../domain/bank-statements.js';
import { invalidRequest } from '../../domain/errors.js';
import { allow } from '../auth.js';
import type { AppContext } from '../context.js';
import { idempotencyKey, respondOnce } from '../idempotency.js';
import * as schema from '../openapi/cash-schemas.js';
import { operations } from '../openapi/operation.js';
import { parse } from '../validation.js';

/** A month of a busy account's statement fits; anything bigger is not a statement Kiosque expects. */
const STATEMENT_LIMIT = '2mb';
const XML_TYPES = ['application/xml', 'text/xml'];
const statementParams = z.object({ id: z.string().min(1).max(64) });

/** Admin: the bank's statements of Kiosque's account (camt.053), imported once each. */
export function adminBankStatementRoutes(ctx: AppContext): Router {
  const router = Router();
  router.use(allow(ctx, 'admin'));

  router.post('/bank-statements', express.text({ type: XML_TYPES, limit: STATEMENT_LIMIT }), async (req, res) => {
    if (!req.is(XML_TYPES) || typeof req.body !== 'string') {
      throw invalidRequest('Send the statement as Content-Type: application/xml', {
        fields: { body: 'expected a camt.053 XML document' },
      });
    }
    const xml = req.body;
    const key = idempotencyKey(req, false);
    await respondOnce(ctx, req, res, key, async (sql) => {
      const { created, summary } = await importBankStatement(sql, xml, ctx.config.kiosqueAccount);
      return { status: created ? 201 : 200, body: summary };
    });
  });

  router.get('/bank-statements/:id', async (req, res) => {
    const { id } = parse(statementParams, req.params);
    res.json(await bankStatement(ctx.database.sql, id));
  });

  return router;
}

export const bankStatementOperations = operations(
  {
    method: 'post',
    path: '/v1/admin/bank-statements',
    tag: 'Money',
    summary:
      "Import an ISO 20022 camt.053.001.08 statement of Kiosque's account (Content-Type: application/xml): remittances, payouts paid and returned",
    description:
      'The body is the XML document itself. The same Stmt/Id again answers 200 with the first import and books nothing.',
    actors: ['admin'],
    responses: {
      201: { description: 'What was booked and what was not', schema: schema.bankStatementImport },
      200: { description: 'This Stmt/Id was imported before: its first answer', schema: schema.bankStatementImport },
    },
  },
  {
    method: 'get',
    path: '/v1/admin/bank-statements/:id',
    tag: 'Money',
    summary: 'An imported statement, as its import answered',
    actors: ['admin'],
    params: statementParams,
    responses: { 200: { description: 'The import', schema: schema.bankStatementImport } },
    errors: [404],
  },
);
