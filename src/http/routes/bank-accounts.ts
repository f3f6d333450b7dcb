import { Router } from 'express';
import { z } from 'zod';
import { bankAccountOf, registerBankAccount } from '../../domain/bank-accounts.js';
import { actorOf, allow } from '../auth.js';
import type { AppContext } from '../context.js';
import * as schema from '../openapi/cash-schemas.js';
import { operations } from '../openapi/operation.js';
import { bankAccountResource } from '../presenters/cash.js';
import { body, parse } from '../validation.js';

const bankAccountBody = body({
  iban: z.string().min(1).max(64).meta({ example: 'FR76 3000 6000 0112 3456 7890 189' }),
  bic: z.string().min(8).max(16).optional(),
  holderName: z.string().trim().min(1).max(70),
});

/** /v1/publisher/bank-account: where a publisher's payouts go. */
export function bankAccountRoutes(ctx: AppContext): Router {
  const router = Router();
  router.use(allow(ctx, 'publisher'));

  router.put('/', async (req, res) => {
    const { publisher } = actorOf(res, 'publisher');
    const input = parse(bankAccountBody, req.body ?? {});
    res.json(bankAccountResource(await registerBankAccount(ctx.database.sql, publisher.id, input)));
  });

  router.get('/', async (_req, res) => {
    const { publisher } = actorOf(res, 'publisher');
    res.json(bankAccountResource(await bankAccountOf(ctx.database.sql, publisher.id)));
  });

  return router;
}

export const bankAccountOperations = operations(
  {
    method: 'put',
    path: '/v1/publisher/bank-account',
    tag: 'Money',
    summary: "Register the publisher's bank account for payouts; the IBAN is checked (ISO 13616) and answered masked",
    actors: ['publisher'],
    body: bankAccountBody,
    responses: {
      200: { description: 'The account, its IBAN masked but for its last 4 characters', schema: schema.bankAccount },
    },
  },
  {
    method: 'get',
    path: '/v1/publisher/bank-account',
    tag: 'Money',
    summary: "The publisher's bank account for payouts, its IBAN masked",
    actors: ['publisher'],
    responses: { 200: { description: 'The account', schema: schema.bankAccount } },
    errors: [404],
  },
);
