import { z } from 'zod';
import { amount } from './schemas.js';

/** Schemas of the money-that-moves answers (API v1.2): bank accounts, payouts, payout runs, bank statements. */

const time = z.string().meta({ format: 'date-time', example: '2026-12-07T10:00:00.000Z' });

export const bankAccount = z
  .looseObject({
    iban: z
      .string()
      .meta({ description: 'Masked but for its last 4 characters', example: '***********************0189' }),
    bic: z.string().nullable(),
    holderName: z.string(),
  })
  .meta({ id: 'BankAccount' });

const runPayout = z.looseObject({ id: z.string().max(35), publisherId: z.string(), amount });

export const payoutRun = z
  .looseObject({
    id: z.string().max(35),
    executionDate: z.string().meta({ format: 'date', example: '2026-12-15' }),
    count: z.number().int(),
    total: amount,
    payouts: z.array(runPayout),
  })
  .meta({
    id: 'PayoutRun',
    description: 'With Accept: application/xml, GET answers the run as an ISO 20022 pain.001.001.09 document instead',
  });

export const publisherPayout = z
  .looseObject({
    id: z.string().max(35),
    amount,
    status: z.enum(['created', 'paid', 'returned']),
    payoutRunId: z.string().nullable(),
    createdAt: time,
  })
  .meta({ id: 'PublisherPayout' });

export const bankStatementImport = z
  .looseObject({
    id: z.string(),
    entries: z.number().int(),
    matched: z.number().int(),
    unmatched: z.array(
      z.looseObject({
        entryReference: z.string().nullable(),
        amount,
        creditDebit: z.enum(['CRDT', 'DBIT']),
        reference: z.string().nullable(),
      }),
    ),
  })
  .meta({ id: 'BankStatementImport' });
