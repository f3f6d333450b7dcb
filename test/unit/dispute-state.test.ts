import { describe, expect, it } from 'vitest';
import {
  assertDisputable,
  DISPUTE_WINDOW_MS,
  nextDisputeStatus,
  respondByFor,
  RESPONSE_WINDOW_MS,
} from '../../src/domain/disputes.js';
import { AppError } from '../../src/domain/errors.js';

const now = new Date('2026-11-25T12:00:00.000Z');
const later = (ms: number) => new Date(now.getTime() + ms);
const open = { status: 'open', respondBy: later(RESPONSE_WINDOW_MS) };
const underReview = { status: 'under_review', respondBy: later(RESPONSE_WINDOW_MS) };

function invalidStateOf(run: () => unknown): AppError {
  try {
    run();
  } catch (error) {
    if (error instanceof AppError) return error;
    throw error;
  }
  throw new Error('expected an AppError');
}

describe('nextDisputeStatus: the dispute state machine', () => {
  it('When the publisher accepts an open dispute, then it is lost', () => {
    expect(nextDisputeStatus(open, { type: 'accept' }, now)).toBe('lost');
  });

  it('When the publisher contests an open dispute, then it is under review', () => {
    expect(nextDisputeStatus(open, { type: 'contest' }, now)).toBe('under_review');
  });

  it('When the operator resolves a contested dispute, then it takes the outcome chosen', () => {
    expect(nextDisputeStatus(underReview, { type: 'resolve', outcome: 'won' }, now)).toBe('won');
    expect(nextDisputeStatus(underReview, { type: 'resolve', outcome: 'lost' }, now)).toBe('lost');
  });

  it('When the operator resolves a dispute still open, then it is invalid_state', () => {
    expect(invalidStateOf(() => nextDisputeStatus(open, { type: 'resolve', outcome: 'won' }, now)).code).toBe(
      'invalid_state',
    );
  });

  it('When the publisher answers a dispute already under review or closed, then it is invalid_state', () => {
    for (const status of ['under_review', 'won', 'lost']) {
      const dispute = { status, respondBy: later(RESPONSE_WINDOW_MS) };
      expect(invalidStateOf(() => nextDisputeStatus(dispute, { type: 'contest' }, now)).code).toBe('invalid_state');
      expect(invalidStateOf(() => nextDisputeStatus(dispute, { type: 'accept' }, now)).code).toBe('invalid_state');
    }
  });

  it('When a closed dispute is resolved again, then it is invalid_state', () => {
    for (const status of ['won', 'lost']) {
      const dispute = { status, respondBy: later(RESPONSE_WINDOW_MS) };
      expect(invalidStateOf(() => nextDisputeStatus(dispute, { type: 'resolve', outcome: 'won' }, now)).code).toBe(
        'invalid_state',
      );
    }
  });

  it('When the publisher answers at or after the deadline, then it is invalid_state', () => {
    const due = { status: 'open', respondBy: now };
    expect(invalidStateOf(() => nextDisputeStatus(due, { type: 'contest' }, now)).details).toEqual({
      respondBy: now.toISOString(),
    });
    expect(nextDisputeStatus(due, { type: 'contest' }, later(-1))).toBe('under_review');
  });

  it('When an open dispute reaches its deadline, then it expires as lost, and not a millisecond before', () => {
    const dispute = { status: 'open', respondBy: now };
    expect(nextDisputeStatus(dispute, { type: 'expire' }, now)).toBe('lost');
    expect(invalidStateOf(() => nextDisputeStatus(dispute, { type: 'expire' }, later(-1))).code).toBe('invalid_state');
  });

  it('When a contested dispute passes the response deadline, then it does not expire', () => {
    const dispute = { status: 'under_review', respondBy: later(-1) };
    expect(invalidStateOf(() => nextDisputeStatus(dispute, { type: 'expire' }, now)).code).toBe('invalid_state');
  });

  it('When a dispute is opened, then the publisher has exactly 7 days to respond', () => {
    expect(respondByFor(now).toISOString()).toBe('2026-12-02T12:00:00.000Z');
  });
});

describe('assertDisputable: which purchases can be disputed', () => {
  const purchase = (status: string, confirmedAgoMs: number | null) => ({
    status,
    expiresAt: later(-1),
    confirmedAt: confirmedAgoMs === null ? null : later(-confirmedAgoMs),
  });

  it('When a confirmed purchase is exactly 365 days old, then it can still be disputed', () => {
    expect(() => assertDisputable(purchase('confirmed', DISPUTE_WINDOW_MS), now)).not.toThrow();
  });

  it('When a confirmed purchase is 365 days and 1 ms old, then it is invalid_state', () => {
    const error = invalidStateOf(() => assertDisputable(purchase('confirmed', DISPUTE_WINDOW_MS + 1), now));
    expect(error.code).toBe('invalid_state');
    expect(error.message).toMatch(/365 days/);
  });

  it('When the purchase is not confirmed, then it is invalid_state naming its status', () => {
    for (const status of ['pending', 'declined', 'refunded']) {
      const error = invalidStateOf(() => assertDisputable(purchase(status, status === 'refunded' ? 1000 : null), now));
      expect(error.code).toBe('invalid_state');
    }
    // A pending purchase past its expiry is reported as expired.
    expect(invalidStateOf(() => assertDisputable(purchase('pending', null), now)).details).toEqual({
      status: 'expired',
    });
  });

  it('When the purchase is already disputed, then it is invalid_state', () => {
    expect(invalidStateOf(() => assertDisputable(purchase('disputed', 1000), now)).details).toEqual({
      status: 'disputed',
    });
  });
});
