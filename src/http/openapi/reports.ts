import { z } from 'zod';
import { DECLINE_CODES } from '../../shared/codes.js';
import { amount, time } from './schemas.js';

const rate = z
  .string()
  .regex(/^\d+\.\d{4}$/)
  .nullable()
  .meta({ description: 'Four decimals; null when there is nothing to divide by' });

/** GET /v1/admin/reports/monthly as JSON (its CSV has one row per entry of `data`). */
export const monthlyReport = z
  .object({
    month: z.string().meta({ example: '2026-11' }),
    from: time.meta({ description: 'The month starts here (Europe/Paris midnight)' }),
    to: time.meta({ description: 'The next month starts here' }),
    data: z.array(
      z.object({
        operatorId: z.string(),
        operatorName: z.string(),
        publisherId: z.string(),
        publisherName: z.string(),
        confirmations: z.number().int(),
        volume: amount,
        declines: z.number().int(),
        declinesByCode: z.object(Object.fromEntries(DECLINE_CODES.map((code) => [code, z.number().int()]))),
        disputes: z.number().int(),
        disputeRate: rate,
        consentPagesShown: z.number().int(),
        conversion: rate,
      }),
    ),
  })
  .meta({ id: 'MonthlyReport' });
