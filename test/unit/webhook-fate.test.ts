import { describe, expect, it } from 'vitest';
import { attemptRecord, eventFate } from '../../src/domain/webhook-delivery.js';
import { webhookEvent } from '../../src/domain/events.js';
import { webhookEventStatus } from '../../src/domain/webhook-events.js';

const finishedAt = new Date('2026-11-30T10:00:00.000Z');
const schedule = [1_000, 60_000];

describe('what one delivery attempt means for its event', () => {
  it('When the endpoint answers 2xx, then the event is delivered at the end of the attempt', () => {
    expect(eventFate({ statusCode: 204, durationMs: 3 }, 3, finishedAt, schedule)).toEqual({
      kind: 'delivered',
      at: finishedAt,
    });
  });

  it('When the endpoint answers 3xx or 5xx, then the next attempt is scheduled after the delay for that attempt', () => {
    expect(eventFate({ statusCode: 302, durationMs: 3 }, 1, finishedAt, schedule)).toEqual({
      kind: 'retry',
      nextAttemptAt: new Date(finishedAt.getTime() + 1_000),
    });
    expect(eventFate({ statusCode: 503, durationMs: 3 }, 2, finishedAt, schedule)).toEqual({
      kind: 'retry',
      nextAttemptAt: new Date(finishedAt.getTime() + 60_000),
    });
  });

  it('When the schedule is spent, then the event fails', () => {
    expect(eventFate({ error: 'timeout', durationMs: 10 }, 3, finishedAt, schedule)).toEqual({
      kind: 'failed',
      at: finishedAt,
    });
  });

  it('When an attempt errs at length, then its row keeps the first 500 characters and no status code', () => {
    const attemptedAt = new Date(finishedAt.getTime() - 10);
    expect(attemptRecord({ error: 'x'.repeat(2_000), durationMs: 10 }, attemptedAt)).toEqual({
      attemptedAt,
      statusCode: null,
      error: 'x'.repeat(500),
      durationMs: 10,
    });
    expect(attemptRecord({ statusCode: 500, durationMs: 4 }, attemptedAt)).toEqual({
      attemptedAt,
      statusCode: 500,
      error: null,
      durationMs: 4,
    });
  });
});

describe('webhook event status and body', () => {
  it('When an event is delivered, then it reads delivered even if a stale claim failed it', () => {
    expect(webhookEventStatus({ deliveredAt: finishedAt, failedAt: finishedAt, skippedAt: null })).toBe('delivered');
    expect(webhookEventStatus({ deliveredAt: null, failedAt: finishedAt, skippedAt: null })).toBe('failed');
    expect(webhookEventStatus({ deliveredAt: null, failedAt: null, skippedAt: finishedAt })).toBe('skipped');
    expect(webhookEventStatus({ deliveredAt: null, failedAt: null, skippedAt: null })).toBe('pending');
  });

  it('When an event is built, then its body carries its own id, type and time around the data', () => {
    const event = webhookEvent('purchase.confirmed', { id: 'pur_1' }, finishedAt);
    expect(event.id).toMatch(/^evt_/);
    expect(event.createdAt).toBe(finishedAt);
    expect(event.payload).toEqual({
      id: event.id,
      type: 'purchase.confirmed',
      createdAt: finishedAt.toISOString(),
      data: { id: 'pur_1' },
    });
  });
});
