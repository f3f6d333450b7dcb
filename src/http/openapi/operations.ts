import { adminOperations } from '../routes/admin.js';
import { adminDisputeOperations } from '../routes/admin-disputes.js';
import { adminReportOperations } from '../routes/admin-reports.js';
import { disputeOperations } from '../routes/disputes.js';
import { meOperations } from '../routes/me.js';
import { moneyOperations } from '../routes/money.js';
import { operatorBillingOperations } from '../routes/operator-billing.js';
import { operatorDisputeOperations } from '../routes/operator-disputes.js';
import { operatorSubscriberOperations } from '../routes/operator-subscribers.js';
import { parentalOperations } from '../routes/parental.js';
import { publisherOperations } from '../routes/publisher.js';
import { purchaseOperations } from '../routes/purchases.js';
import { subscriptionOperations } from '../routes/subscriptions.js';
import { webhookOperations } from '../routes/webhooks.js';
import { bankAccountOperations } from '../routes/bank-accounts.js';
import { payoutRunOperations } from '../routes/payout-runs.js';
import { bankStatementOperations } from '../routes/bank-statements.js';
import type { Operation } from './operation.js';

/**
 * Every /v1 operation, as GET /openapi.json describes it. A new route file
 * exports its `operations(...)` beside its router, with the schemas its
 * handlers parse, and is added here; test/openapi.test.ts walks the Express
 * router and fails on a route without an operation or the reverse.
 */
export const OPERATIONS: readonly Operation[] = [
  ...adminOperations,
  ...adminDisputeOperations,
  ...operatorSubscriberOperations,
  ...operatorBillingOperations,
  ...operatorDisputeOperations,
  ...disputeOperations,
  ...purchaseOperations,
  ...subscriptionOperations,
  ...meOperations,
  ...parentalOperations,
  ...webhookOperations,
  ...publisherOperations,
  ...moneyOperations,
  ...adminReportOperations,
  ...bankAccountOperations,
  ...payoutRunOperations,
  ...bankStatementOperations,
];
