// Which webhook URLs and addresses may be called (SSRF protection). Used twice: when a webhook is
// registered or changed (checkWebhookUrl, by the API) and when the worker dials (addressRefusal,
// by the HTTP client's connect-time lookup), so a name that re-resolves to a private address later
// (DNS rebinding) is still refused.
//
// Refused unless allowlisted (WEBHOOK_ALLOWLIST: hosts, IPs or CIDRs): every address that is not
// plain global unicast — private, loopback, link-local (incl. 169.254.169.254), CGNAT, unspecified,
// broadcast, multicast, reserved, IPv6 ULA (incl. fd00:ec2::254), IPv4-mapped/compatible, NAT64,
// 6to4, Teredo — and cloud metadata names. Numeric spellings (`http://2130706433`, `0x7f.1`, octal)
// are normalised by the WHATWG URL parser to dotted IPv4 before they are judged.
import { lookup } from 'node:dns/promises';
import ipaddr from 'ipaddr.js';

export type Resolver = (hostname: string) => Promise<string[]>;

const METADATA_NAMES = new Set(['metadata.google.internal', 'metadata.goog', 'metadata', 'instance-data', 'instance-data.ec2.internal']);
const RESOLVE_TIMEOUT_MS = 3000;

/** Every address a name resolves to (system resolver, like the HTTP client uses). */
export const systemResolver: Resolver = async (hostname) => {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error(`resolving ${hostname} timed out`), { code: 'ETIMEOUT' })), RESOLVE_TIMEOUT_MS);
  });
  try {
    const records = await Promise.race([lookup(hostname, { all: true, verbatim: true }), timeout]);
    return records.map((r) => r.address);
  } finally {
    clearTimeout(timer);
  }
};

/** Host as written in a URL, without IPv6 brackets and trailing dot, lower case. */
export function bareHost(hostname: string): string {
  return hostname.replace(/^\[(.*)\]$/, '$1').replace(/\.$/, '').toLowerCase();
}

function parseAddress(address: string): ipaddr.IPv4 | ipaddr.IPv6 | null {
  const bare = bareHost(address).replace(/%.*$/, ''); // drop an IPv6 zone id
  return ipaddr.isValid(bare) ? ipaddr.parse(bare) : null;
}

/** True when a host name, an IP or a CIDR of the allowlist covers this host (name or address). */
export function isAllowlisted(host: string, allowlist: readonly string[]): boolean {
  const name = bareHost(host);
  const parsed = parseAddress(name);
  // An IPv4-mapped IPv6 address matches IPv4 entries (a socket may report either spelling).
  const address = parsed?.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress() ? (parsed as ipaddr.IPv6).toIPv4Address() : parsed;
  for (const raw of allowlist) {
    const entry = bareHost(raw);
    if (entry.includes('/')) {
      if (!address || !ipaddr.isValidCIDR(entry)) continue;
      const [range, bits] = ipaddr.parseCIDR(entry);
      if (range.kind() === address.kind() && address.match([range, bits] as never)) return true;
    } else if (address && ipaddr.isValid(entry)) {
      const other = ipaddr.parse(entry);
      if (other.kind() === address.kind() && other.toNormalizedString() === address.toNormalizedString()) return true;
      if (other.kind() === 'ipv6' && (other as ipaddr.IPv6).isIPv4MappedAddress() && (other as ipaddr.IPv6).toIPv4Address().toString() === address.toString()) return true;
    } else if (entry === name) {
      return true;
    }
  }
  return false;
}

/** Why this literal address may not be called, or null when it is global unicast or allowlisted. */
export function addressRefusal(address: string, allowlist: readonly string[]): string | null {
  const parsed = parseAddress(address);
  if (!parsed) return `${address} is not an IP address`;
  if (isAllowlisted(address, allowlist)) return null;
  const range = parsed.range();
  // IPv6 must also be in 2000::/3: ipaddr.js calls e.g. IPv4-compatible ::a.b.c.d plain unicast.
  const globalIPv6 = parsed.kind() === 'ipv6' && parsed.match(ipaddr.parseCIDR('2000::/3'));
  if (range === 'unicast' && (parsed.kind() === 'ipv4' || globalIPv6)) return null;
  if (range === 'unicast') return `${address} is an IPv6 address outside global unicast (2000::/3; e.g. IPv4-compatible)`;
  return `${address} is not a public address (${describeRange(range)})`;
}

function describeRange(range: string): string {
  switch (range) {
    case 'private':
      return 'private';
    case 'loopback':
      return 'loopback';
    case 'linkLocal':
      return 'link-local (includes cloud metadata)';
    case 'carrierGradeNat':
      return 'carrier-grade NAT';
    case 'unspecified':
      return 'unspecified';
    case 'uniqueLocal':
      return 'IPv6 unique-local';
    case 'ipv4Mapped':
      return 'IPv4-mapped IPv6';
    case 'rfc6052':
    case 'rfc6145':
      return 'NAT64 / IPv4-translated';
    default:
      return `non-public (${range})`;
  }
}

/**
 * null when the URL may be registered as a webhook, else a reason a person can read.
 * Names are resolved and every address must pass; a name that does not resolve (yet) is accepted,
 * because the worker checks the address it actually dials at connect time anyway.
 */
export async function checkWebhookUrl(rawUrl: string, allowlist: readonly string[], resolve: Resolver = systemResolver): Promise<string | null> {
  let url: URL;
  try {
    url = new URL(rawUrl);
  } catch {
    return 'webhook_url is not a valid absolute URL';
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return `webhook_url must use https (got ${url.protocol.replace(/:$/, '')})`;
  if (rawUrl.length > 2048) return 'webhook_url is longer than 2048 characters';
  const host = bareHost(url.hostname);
  if (host === '') return 'webhook_url has no host';

  const literal = parseAddress(host);
  if (literal) {
    const refusal = addressRefusal(host, allowlist);
    if (refusal) return `webhook_url host ${refusal}; only public addresses may receive webhooks`;
    if (url.protocol !== 'https:' && !isAllowlisted(host, allowlist)) return 'webhook_url must use https';
    return null;
  }

  if (isAllowlisted(host, allowlist)) return null;
  if (METADATA_NAMES.has(host)) return `webhook_url host ${host} is a cloud metadata service`;
  if (host === 'localhost' || host.endsWith('.localhost')) return `webhook_url host ${host} is loopback`;

  let addresses: string[];
  try {
    addresses = await resolve(host);
  } catch {
    addresses = [];
  }
  // The answer never says which address a name resolved to: that would map internal names for an app.
  if (addresses.some((address) => addressRefusal(address, allowlist))) {
    return `webhook_url host ${host} resolves to a private address; only public addresses may receive webhooks`;
  }
  if (url.protocol !== 'https:') {
    const allAllowlisted = addresses.length > 0 && addresses.every((a) => isAllowlisted(a, allowlist));
    if (!allAllowlisted) return 'webhook_url must use https';
  }
  return null;
}
