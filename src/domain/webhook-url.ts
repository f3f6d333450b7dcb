import { lookup } from 'node:dns/promises';
import ipaddr from 'ipaddr.js';

export type Resolver = (host: string) => Promise<string[]>;

export const systemResolver: Resolver = async (host) =>
  (await lookup(host, { all: true, verbatim: true })).map((a) => a.address);

const zero = (bytes: number[], from: number, to: number) => bytes.slice(from, to).every((b) => b === 0);
const ipv4At = (bytes: number[], at: number) => new ipaddr.IPv4(bytes.slice(at, at + 4));

/**
 * The IPv4 addresses an IPv6 address embeds, which routers or translators may
 * deliver to: IPv4-mapped (::ffff:a.b.c.d), IPv4-compatible (::a.b.c.d, also
 * written ::7f00:1), SIIT (::ffff:0:a.b.c.d), NAT64 (64:ff9b::/96), 6to4
 * (2002::/16) and Teredo (2001::/32: server and obfuscated client). Null when
 * it embeds none, 'local' for NAT64's local-use prefix 64:ff9b:1::/48, which
 * can translate to anything the operator's network chooses.
 */
export function embeddedIPv4(address: ipaddr.IPv6): ipaddr.IPv4[] | 'local' | null {
  const b = address.toByteArray();
  if (zero(b, 0, 10) && ((b[10] === 0 && b[11] === 0) || (b[10] === 0xff && b[11] === 0xff))) return [ipv4At(b, 12)];
  if (zero(b, 0, 8) && b[8] === 0xff && b[9] === 0xff && zero(b, 10, 12)) return [ipv4At(b, 12)];
  if (b[0] === 0x00 && b[1] === 0x64 && b[2] === 0xff && b[3] === 0x9b) {
    if (zero(b, 4, 12)) return [ipv4At(b, 12)];
    if (b[4] === 0x00 && b[5] === 0x01) return 'local';
  }
  if (b[0] === 0x20 && b[1] === 0x02) return [ipv4At(b, 2)];
  if (b[0] === 0x20 && b[1] === 0x01 && b[2] === 0 && b[3] === 0) {
    const client = new ipaddr.IPv4(b.slice(12, 16).map((byte) => byte ^ 0xff));
    return [ipv4At(b, 4), client];
  }
  return null;
}

/**
 * True only for globally routable unicast addresses: no loopback, private,
 * link-local, metadata, CGNAT, multicast… An IPv6 address that embeds IPv4
 * addresses is judged by the IPv4 rules on each of them: `[::7f00:1]` is
 * loopback however it is written.
 */
export function isPublicAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return false;
  const parsed = ipaddr.parse(address);
  if (parsed.kind() === 'ipv4') return parsed.range() === 'unicast';
  const embedded = embeddedIPv4(parsed as ipaddr.IPv6);
  if (embedded === 'local') return false;
  if (embedded) return embedded.every((ipv4) => ipv4.range() === 'unicast');
  return parsed.range() === 'unicast';
}

/**
 * Why a webhook URL may not be called, or null when it may. Checked at
 * registration and again before every delivery, since DNS can change between.
 */
export async function webhookUrlProblem(
  raw: string,
  allowPrivateNetworks: boolean,
  resolve: Resolver = systemResolver,
): Promise<string | null> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'not a URL';
  }
  if (url.username || url.password) return 'credentials in the URL are not allowed';
  if (url.protocol !== 'https:' && !(allowPrivateNetworks && url.protocol === 'http:')) return 'must use https';
  if (allowPrivateNetworks) return null;
  const host = url.hostname.replace(/^\[|\]$/g, '');
  let addresses: string[];
  try {
    addresses = ipaddr.isValid(host) ? [host] : await resolve(host);
  } catch {
    return 'host does not resolve';
  }
  if (addresses.length === 0) return 'host does not resolve';
  if (!addresses.every(isPublicAddress)) return 'host is or resolves to a non-public address';
  return null;
}
