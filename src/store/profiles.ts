import { Prisma } from '../generated/prisma/client.js';
import type { Database } from './database.js';
import type Decimal from 'decimal.js';
import type { OperatorRecord } from './operators.js';
import type { PublisherProfileRecord } from './publishers.js';
import { decimalOf } from './records.js';

/*
 * Operators and publishers as the admin, and publishers themselves, read and change them: one row of one model
 * at a time, outside any transaction, through Prisma's typed client (src/store/database.ts). Their creation,
 * suspension and secret rotation stay in operators.ts and publishers.ts, on pg: each runs in its idempotency
 * key's transaction.
 */

const OPERATOR = {
  id: true,
  name: true,
  brand: true,
  sandbox: true,
  webhookUrl: true,
  webhookSecret: true,
  assertionSecret: true,
  limitPerPurchase: true,
  limitWeekly: true,
  limitMonthly: true,
  pointsEnabled: true,
  pointValue: true,
  createdAt: true,
} satisfies Prisma.OperatorSelect;

type OperatorRow = Prisma.OperatorGetPayload<{ select: typeof OPERATOR }>;

function toOperator(row: OperatorRow): OperatorRecord {
  return {
    ...row,
    limitPerPurchase: decimalOf(row.limitPerPurchase),
    limitWeekly: decimalOf(row.limitWeekly),
    limitMonthly: decimalOf(row.limitMonthly),
    pointValue: decimalOf(row.pointValue),
  };
}

const PUBLISHER_PROFILE = {
  id: true,
  name: true,
  category: true,
  legalName: true,
  supportUrl: true,
  webhookUrl: true,
  rateIsp: true,
  rateSms: true,
  rateVoice: true,
  vatRate: true,
  pointsPerEuro: true,
  suspendedAt: true,
  createdAt: true,
  previousWebhookSecret: true,
  previousWebhookSecretExpiresAt: true,
} satisfies Prisma.PublisherSelect;

type PublisherProfileRow = Prisma.PublisherGetPayload<{ select: typeof PUBLISHER_PROFILE }>;

function toProfile(row: PublisherProfileRow): PublisherProfileRecord {
  return {
    ...row,
    rateIsp: decimalOf(row.rateIsp),
    rateSms: decimalOf(row.rateSms),
    rateVoice: decimalOf(row.rateVoice),
    vatRate: decimalOf(row.vatRate),
    pointsPerEuro: decimalOf(row.pointsPerEuro),
  };
}

/** The updated row, or null when there was no row to update (Prisma's P2025). */
async function unlessMissing<T>(update: Promise<T>): Promise<T | null> {
  try {
    return await update;
  } catch (error) {
    if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2025') return null;
    throw error;
  }
}

export async function findOperator(database: Database, id: string): Promise<OperatorRecord | null> {
  const row = await database.prisma.operator.findUnique({ where: { id }, select: OPERATOR });
  return row ? toOperator(row) : null;
}

/** What the admin may change of an operator; undefined keeps a field. */
export interface OperatorChanges {
  limitPerPurchase?: Decimal;
  limitWeekly?: Decimal;
  limitMonthly?: Decimal;
  webhookUrl?: string | null;
  /** Stored only if the operator still has no webhook secret when the change is made. */
  webhookSecretIfNone?: string;
  pointsEnabled?: boolean;
  pointValue?: Decimal;
}

/**
 * Applies the admin's changes (null clears the webhook URL) and returns the operator; null when there is none.
 * The returned webhook secret is the one stored: `webhookSecretIfNone` when this call set it, else the one
 * already there.
 */
export async function updateOperator(
  database: Database,
  id: string,
  changes: OperatorChanges,
): Promise<OperatorRecord | null> {
  const data = {
    limitPerPurchase: changes.limitPerPurchase?.toFixed(2),
    limitWeekly: changes.limitWeekly?.toFixed(2),
    limitMonthly: changes.limitMonthly?.toFixed(2),
    webhookUrl: changes.webhookUrl,
    pointsEnabled: changes.pointsEnabled,
    pointValue: changes.pointValue?.toFixed(2),
  };
  if (changes.webhookSecretIfNone !== undefined) {
    // The secret goes in only where the row has none, in the one UPDATE that makes the other changes: a second
    // first change, waiting for the row lock of the first, is re-checked by PostgreSQL against the committed row,
    // finds a secret and updates nothing, so two callers never both store (and show) one. It then makes its
    // changes below, without the secret.
    const [row] = await database.prisma.operator.updateManyAndReturn({
      where: { id, webhookSecret: null },
      data: { ...data, webhookSecret: changes.webhookSecretIfNone },
      select: OPERATOR,
    });
    if (row) return toOperator(row);
  }
  const row = await unlessMissing(database.prisma.operator.update({ where: { id }, data, select: OPERATOR }));
  return row ? toOperator(row) : null;
}

/** The fields a publisher may change itself; undefined keeps a field, null clears it. */
export interface PublisherProfileChanges {
  webhookUrl?: string | null;
  legalName?: string | null;
  supportUrl?: string | null;
  pointsPerEuro?: string;
}

/** Applies a publisher's changes to its own profile and returns the profile; null when there is no such publisher. */
export async function updatePublisherProfile(
  database: Database,
  publisherId: string,
  changes: PublisherProfileChanges,
): Promise<PublisherProfileRecord | null> {
  const row = await unlessMissing(
    database.prisma.publisher.update({
      where: { id: publisherId },
      data: {
        webhookUrl: changes.webhookUrl,
        legalName: changes.legalName,
        supportUrl: changes.supportUrl,
        pointsPerEuro: changes.pointsPerEuro,
      },
      select: PUBLISHER_PROFILE,
    }),
  );
  return row ? toProfile(row) : null;
}
