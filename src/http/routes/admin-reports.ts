import { stringify } from 'csv-stringify/sync';
import { Router } from 'express';
import { z } from 'zod';
import { reportOfMonth } from '../../domain/monthly-report.js';
import { monthStart } from '../../domain/periods.js';
import { allow } from '../auth.js';
import { csvSafeRow } from '../presenters/csv.js';
import { monthlyReportResource, REPORT_CSV_COLUMNS, reportCsvRecords } from '../presenters/monthly-report.js';
import type { AppContext } from '../context.js';
import { operations } from '../openapi/operation.js';
import { monthlyReport } from '../openapi/reports.js';
import { parse } from '../validation.js';

export const monthQuery = z.object({ month: z.string().max(7).optional() }).strict();

/** "2026-11" for the month holding `at`, in Europe/Paris. */
function currentMonth(at: Date): string {
  const start = monthStart(new Date(at.getTime()));
  const parts = new Intl.DateTimeFormat('en-CA', {
    timeZone: 'Europe/Paris',
    year: 'numeric',
    month: '2-digit',
  }).format(start);
  return parts.slice(0, 7);
}

export function adminReportRoutes(ctx: AppContext): Router {
  const router = Router();

  /** GET /v1/admin/reports/monthly?month=YYYY-MM: per operator and publisher; JSON, or CSV with Accept: text/csv. */
  router.get('/reports/monthly', allow(ctx, 'admin'), async (req, res) => {
    const month = parse(monthQuery, req.query).month ?? currentMonth(new Date());
    const { bounds, lines } = await reportOfMonth(ctx.database.sql, month);
    const report = monthlyReportResource(month, bounds, lines);
    if (req.accepts(['application/json', 'text/csv']) !== 'text/csv') return res.json(report);
    const records = reportCsvRecords(report).map(csvSafeRow);
    res.type('text/csv; charset=utf-8').attachment(`kiosque-report-${month}.csv`);
    res.send(stringify(records, { header: true, columns: [...REPORT_CSV_COLUMNS] }));
  });

  return router;
}

export const adminReportOperations = operations({
  method: 'get',
  path: '/v1/admin/reports/monthly',
  tag: 'Admin',
  summary: 'The month per operator and publisher: volumes, declines by code, dispute rate, conversion',
  description:
    '`month` is `YYYY-MM` (Europe/Paris; default the current month). JSON by default; `Accept: text/csv` gives ' +
    'one row per entry of `data`, with `month` first and one `declines_<code>` column per decline code.',
  actors: ['admin'],
  query: monthQuery,
  responses: { 200: { description: 'The report: JSON, or CSV when asked for', schema: monthlyReport, csv: true } },
});
