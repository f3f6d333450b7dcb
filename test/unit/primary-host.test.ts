import { describe, expect, it } from 'vitest';
import { hostOf } from '../../src/lifecycle.js';
import { parseDatabaseUrl } from '../../src/store/primary-host.js';

describe('Reading a multi-host DATABASE_URL', () => {
  it('When the URL names two hosts and read-write, then both hosts are read in order and each gets a URL pg reads', () => {
    const parsed = parseDatabaseUrl(
      'postgresql://kiosque:s3cret@db1.internal:5432,db2.internal:5433/kiosque?target_session_attrs=read-write&sslmode=require',
    );
    expect(parsed.hosts).toEqual([
      { host: 'db1.internal', port: 5432 },
      { host: 'db2.internal', port: 5433 },
    ]);
    expect(parsed.selects).toBe(true);
    const second = parsed.urlFor(parsed.hosts[1]!);
    expect(second).toBe('postgresql://kiosque:s3cret@db2.internal:5433/kiosque?sslmode=require');
    const url = new URL(second);
    expect([url.hostname, url.port, url.pathname, url.username]).toEqual([
      'db2.internal',
      '5433',
      '/kiosque',
      'kiosque',
    ]);
  });

  it('When a host has no port or is an IPv6 address, then it gets 5432 and keeps its brackets in its URL', () => {
    const parsed = parseDatabaseUrl('postgres://a,[::1]:6000,[fe80::2]/k');
    expect(parsed.hosts).toEqual([
      { host: 'a', port: 5432 },
      { host: '::1', port: 6000 },
      { host: 'fe80::2', port: 5432 },
    ]);
    expect(parsed.urlFor(parsed.hosts[1]!)).toBe('postgres://[::1]:6000/k');
  });

  it('When the URL names one host and no target_session_attrs, then connections are not checked (the URL is used as it is)', () => {
    expect(parseDatabaseUrl('postgresql://postgres@127.0.0.1:5432/kiosque').selects).toBe(false);
    expect(parseDatabaseUrl('postgresql://kiosque@localhost/kiosque?host=/var/run/postgresql').selects).toBe(false);
  });

  it('When one host asks for read-write, then its connections are checked for a writable primary', () => {
    expect(parseDatabaseUrl('postgresql://h:5432/k?target_session_attrs=read-write').selects).toBe(true);
  });

  it('When target_session_attrs would pick a standby, or a port is not a port, or the scheme is not postgres, then the URL is refused', () => {
    expect(() => parseDatabaseUrl('postgresql://h1,h2/k?target_session_attrs=standby')).toThrow(/read-write/);
    expect(() => parseDatabaseUrl('postgresql://h1:5432,h2:99999/k')).toThrow(/bad port/);
    expect(() => parseDatabaseUrl('postgresql://h1:5432,:5433/k')).toThrow(/empty host/);
    expect(() => parseDatabaseUrl('mysql://h1/k')).toThrow(/postgresql/);
  });

  it('When the URL is refused, then its password is not in the message', () => {
    expect(() => parseDatabaseUrl('postgresql://u:hunter2@h1:5432,h2:x/k')).toThrow(/u:\*\*\*@/);
    expect(() => parseDatabaseUrl('postgresql://u:hunter2@h1:5432,h2:x/k')).not.toThrow(/hunter2/);
  });

  it('When a multi-host URL is logged, then the log names its hosts without the credentials', () => {
    expect(hostOf('postgresql://kiosque:s3cret@db1:5432,db2:5433/kiosque?target_session_attrs=read-write')).toBe(
      'db1:5432,db2:5433',
    );
  });
});
