import cookieParser from 'cookie-parser';
import express, { type Express } from 'express';
import helmet from 'helmet';
import { AppError } from '../domain/errors.js';
import { ALREADY_MIGRATED, healthRoutes, type StartedUp } from '../observability/health.js';
import { accessLog } from '../observability/access-log.js';
import { observeHttp } from '../observability/http.js';
import type { AppContext } from './context.js';
import { errorHandler } from './errors.js';
import { urlRedactor } from './log-redaction.js';
import { noStore } from './no-store.js';
import { shedLoad } from './load-shedding.js';
import { connectionsAwaited } from '../store/database.js';
import { rateLimit } from './rate-limit.js';
import { rejectNul } from './reject-nul.js';
import { adminRoutes } from './routes/admin.js';
import { adminDisputeRoutes } from './routes/admin-disputes.js';
import { adminReportRoutes } from './routes/admin-reports.js';
import { consentRoutes } from './routes/consent.js';
import { disputeRoutes } from './routes/disputes.js';
import { docsRoutes } from './routes/docs.js';
import { meRoutes } from './routes/me.js';
import { adminMoneyRoutes, publisherMoneyRoutes } from './routes/money.js';
import { operatorDisputeRoutes } from './routes/operator-disputes.js';
import { billingRunRoutes, invoiceRoutes } from './routes/operator-billing.js';
import { operatorSubscriberRoutes } from './routes/operator-subscribers.js';
import { publisherRoutes } from './routes/publisher.js';
import { bankAccountRoutes } from './routes/bank-accounts.js';
import { adminPayoutRunRoutes, publisherPayoutRoutes } from './routes/payout-runs.js';
import { adminBankStatementRoutes } from './routes/bank-statements.js';
import { purchaseRoutes } from './routes/purchases.js';
import { parentalRoutes } from './routes/parental.js';
import { subscriptionConsentRoutes } from './routes/subscription-consent.js';
import { subscriberPageRoutes } from './routes/subscriber-pages.js';
import { infoPageRoutes } from './routes/info-pages.js';
import { HELP_PATH, PRIVACY_PATH, TERMS_PATH } from './pages/paths.js';
import { assetRoutes } from './pages/assets.js';
import { pageHeaders } from './pages/render.js';
import { meSubscriptionRoutes, subscriptionRoutes } from './routes/subscriptions.js';
import { webhookRoutes } from './routes/webhooks.js';
import { untilMigrated } from './until-migrated.js';

/** Publishers send small JSON documents; anything larger is a mistake or an attack. */
export const BODY_LIMIT = '16kb';

export function createApp(ctx: AppContext, startup: StartedUp = ALREADY_MIGRATED): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', ctx.config.trustProxy ? 1 : false);
  app.use(accessLog(ctx.logger, urlRedactor([ctx.config.adminApiKey])));
  app.use(observeHttp(app));
  app.use(helmet({ contentSecurityPolicy: { directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] } } }));

  app.use(healthRoutes(ctx, startup));

  app.use(docsRoutes(ctx));
  app.use(untilMigrated(startup));
  // Bodies are read before a request counts as in flight: a client sending its body a byte at a time holds a
  // connection (bounded in number and time, src/http/connection-guard.ts), never a slot other clients need.
  app.use(express.json({ limit: BODY_LIMIT, strict: true }));
  app.use(['/consent', '/me'], express.urlencoded({ limit: BODY_LIMIT, extended: false }));
  const { maxInFlight, maxPoolWaiting, requestDeadlineMs } = ctx.config;
  app.use(
    shedLoad({ maxInFlight, maxPoolWaiting, deadlineMs: requestDeadlineMs }, () => connectionsAwaited(ctx.database)),
  );
  app.use(rejectNul);

  const v1 = express.Router();
  v1.use(noStore);
  v1.use(rateLimit(ctx));
  // The hot path first: every purchase is two requests here, and Express tries mounted routers in order.
  v1.use('/purchases', purchaseRoutes(ctx));
  v1.use('/admin', adminRoutes(ctx));
  v1.use('/admin', adminDisputeRoutes(ctx));
  v1.use('/admin', adminMoneyRoutes(ctx));
  v1.use('/admin', adminPayoutRunRoutes(ctx));
  v1.use('/admin', adminBankStatementRoutes(ctx));
  v1.use('/admin', adminReportRoutes(ctx));
  v1.use('/operator/subscribers', operatorSubscriberRoutes(ctx));
  v1.use('/operator/billing-runs', billingRunRoutes(ctx));
  v1.use('/operator/invoices', invoiceRoutes(ctx));
  v1.use('/operator/disputes', operatorDisputeRoutes(ctx));
  v1.use('/disputes', disputeRoutes(ctx));
  v1.use('/subscriptions', subscriptionRoutes(ctx));
  v1.use('/me/subscriptions', meSubscriptionRoutes(ctx));
  v1.use('/me/children', parentalRoutes(ctx));
  v1.use('/me', meRoutes(ctx));
  v1.use('/webhooks', webhookRoutes(ctx));
  v1.use(publisherMoneyRoutes(ctx));
  v1.use(publisherPayoutRoutes(ctx));
  v1.use('/publisher/bank-account', bankAccountRoutes(ctx));
  v1.use('/publisher', publisherRoutes(ctx));
  // The API before the pages: a purchase's two requests should not walk the page routers first.
  app.use('/v1', v1);

  app.use('/consent', noStore, rateLimit(ctx), cookieParser(), consentRoutes(ctx), subscriptionConsentRoutes(ctx));
  app.use('/me', noStore, rateLimit(ctx), cookieParser(), pageHeaders, subscriberPageRoutes(ctx));
  app.use([TERMS_PATH, PRIVACY_PATH, HELP_PATH], noStore, rateLimit(ctx), cookieParser(), pageHeaders);
  app.use(infoPageRoutes(ctx));
  app.use(assetRoutes());

  app.use(() => {
    throw new AppError('not_found', 'No such endpoint');
  });
  app.use(errorHandler(ctx.logger));
  return app;
}
