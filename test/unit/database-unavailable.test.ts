import { describe, expect, it } from 'vitest';
import { isDatabaseUnavailable } from '../../src/store/unavailable.js';

/** Error shapes from Prisma 7 over @prisma/adapter-pg and node-postgres, recorded against a stopped or locked server. */
const adapterError = (cause: Record<string, unknown>) => ({
  code: 'P2010',
  meta: { driverAdapterError: { name: 'DriverAdapterError', cause } },
});
const socketError = (code: string) =>
  Object.assign(new Error(`connect ${code} 127.0.0.1:5432`), { code, syscall: 'connect', errno: -111 });
const pgError = (code: string, message: string) => Object.assign(new Error(message), { code, severity: 'ERROR' });

describe('Recognising an unreachable or overloaded PostgreSQL', () => {
  it.each([
    [
      'Prisma, server down at the start of a transaction',
      { code: 'P1001', meta: { driverAdapterError: { cause: { kind: 'DatabaseNotReachable' } } } },
    ],
    ['Prisma raw query, server down', adapterError({ kind: 'DatabaseNotReachable', host: '127.0.0.1', port: 5432 })],
    ['Prisma, connection reset', adapterError({ kind: 'ConnectionClosed' })],
    ['Prisma, server shutting down (57P01)', adapterError({ kind: 'postgres', code: '57P01', originalCode: '57P01' })],
    ['Prisma, statement timeout (57014)', adapterError({ kind: 'postgres', code: '57014' })],
    ['Prisma, lock timeout (55P03)', adapterError({ kind: 'postgres', code: '55P03' })],
    ['Prisma, transaction could not start in time', { code: 'P2028' }],
    ['Prisma, a write on a demoted primary (25006)', adapterError({ kind: 'postgres', code: '25006' })],
    ['pg, a write on a demoted primary (25006)', pgError('25006', 'cannot execute INSERT in a read-only transaction')],
    ['pg, a commit its synchronous standby never confirmed (40003)', pgError('40003', 'committed locally')],
    [
      'pg, no host of a multi-host URL is a writable primary (08001)',
      pgError('08001', 'no writable PostgreSQL primary'),
    ],
    ['pg pool, no free connection in time', new Error('timeout exceeded when trying to connect')],
    ['pg, connection terminated', new Error('Connection terminated unexpectedly')],
    ['pg, refused', socketError('ECONNREFUSED')],
    ['pg, server starting up (57P03)', pgError('57P03', 'the database system is starting up')],
    ['pg, too many connections (53300)', pgError('53300', 'sorry, too many clients already')],
    ['wrapped in a cause', new Error('outer', { cause: socketError('ECONNRESET') })],
  ])('When the error is %s, then it counts as unavailable', (_name, error) => {
    expect(isDatabaseUnavailable(error)).toBe(true);
  });

  it.each([
    ['a unique violation', adapterError({ kind: 'UniqueConstraintViolation' })],
    ['a raw query syntax error', adapterError({ kind: 'postgres', code: '42601' })],
    ['Prisma record not found', { code: 'P2025' }],
    ['a plain bug', new TypeError('x is undefined')],
    ['not an error', 'ECONNREFUSED'],
  ])('When the error is %s, then it does not', (_name, error) => {
    expect(isDatabaseUnavailable(error)).toBe(false);
  });
});
