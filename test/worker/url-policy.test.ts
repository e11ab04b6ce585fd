// The SSRF table at registration time: checkWebhookUrl refuses every non-public address form and
// names resolving to one, unless allowlisted.
import t from 'tap';
import { addressRefusal, checkWebhookUrl, isAllowlisted, systemResolver, type Resolver } from '../../lib/webhooks/url-policy.js';

// A resolver of the test's own (offline machine): names map to fixed addresses.
const zone: Record<string, string[]> = {
  'hooks.example.com': ['93.184.216.34'],
  'dual.example.com': ['93.184.216.34', '2606:2800:220:1::1'],
  'rebind.example.com': ['93.184.216.34', '127.0.0.1'],
  'internal.example.com': ['10.1.2.3'],
  'ula.example.com': ['fd12::1'],
};
const resolver: Resolver = async (host) => {
  const addresses = zone[host];
  if (!addresses) throw Object.assign(new Error('not found'), { code: 'ENOTFOUND' });
  return addresses;
};

const refused: Array<[string, string]> = [
  ['http://hooks.example.com/x', 'plain http to a public name'],
  ['https://127.0.0.1/x', 'loopback'],
  ['https://127.5.6.7/x', 'loopback /8'],
  ['https://10.0.0.1/x', 'private 10/8'],
  ['https://172.16.5.4/x', 'private 172.16/12'],
  ['https://192.168.1.1/x', 'private 192.168/16'],
  ['https://169.254.169.254/latest/meta-data', 'cloud metadata (link-local)'],
  ['https://169.254.1.1/x', 'link-local'],
  ['https://100.64.0.1/x', 'CGNAT'],
  ['https://0.0.0.0/x', 'unspecified'],
  ['https://255.255.255.255/x', 'broadcast'],
  ['https://224.0.0.1/x', 'multicast'],
  ['https://[::1]/x', 'IPv6 loopback'],
  ['https://[::]/x', 'IPv6 unspecified'],
  ['https://[fe80::1]/x', 'IPv6 link-local'],
  ['https://[fd00:ec2::254]/x', 'AWS IPv6 metadata (ULA)'],
  ['https://[fc00::1]/x', 'IPv6 ULA'],
  ['https://[::ffff:127.0.0.1]/x', 'IPv4-mapped loopback'],
  ['https://[::ffff:8.8.8.8]/x', 'IPv4-mapped (even public)'],
  ['https://[::127.0.0.1]/x', 'IPv4-compatible'],
  ['https://[::8.8.8.8]/x', 'IPv4-compatible (public)'],
  ['https://[100::1]/x', 'IPv6 discard prefix'],
  ['https://[64:ff9b::a00:1]/x', 'NAT64 of 10.0.0.1'],
  ['https://[2002:7f00:1::]/x', '6to4 of loopback'],
  ['https://2130706433/x', 'decimal loopback'],
  ['http://2130706433/x', 'decimal loopback over http'],
  ['https://0x7f.1/x', 'hex loopback'],
  ['https://0x7f000001/x', 'hex loopback (one number)'],
  ['https://017700000001/x', 'octal loopback'],
  ['https://127.1/x', 'short loopback'],
  ['https://0xa9.0xfe.0xa9.0xfe/x', 'hex metadata'],
  ['https://metadata.google.internal/computeMetadata/v1/', 'GCP metadata name'],
  ['https://METADATA.google.internal./x', 'GCP metadata name, other spelling'],
  ['https://localhost/x', 'localhost'],
  ['https://api.localhost/x', '*.localhost'],
  ['https://internal.example.com/x', 'a name resolving to a private address'],
  ['https://ula.example.com/x', 'a name resolving to IPv6 ULA'],
  ['https://rebind.example.com/x', 'a name with one loopback address among public ones'],
  ['ftp://hooks.example.com/x', 'not http(s)'],
  ['file:///etc/passwd', 'file URL'],
  ['not a url', 'not a URL'],
];

t.test('refused at registration', async (t) => {
  for (const [url, why] of refused) {
    const reason = await checkWebhookUrl(url, [], resolver);
    t.type(reason, 'string', `${why}: ${url} → ${reason}`);
  }
});

t.test('a name that resolves to loopback through the system resolver is refused', async (t) => {
  // `localhost` is refused by name; a name the system resolves to loopback is refused by address.
  const reason = await checkWebhookUrl('https://localhost.:8443/x', []);
  t.match(reason, /loopback/);
  // Any other name: the system resolver answers for `localhost` in its stead.
  const aliasOfLocalhost: Resolver = (host) => systemResolver(host === 'my-service.test' ? 'localhost' : host);
  t.equal(await checkWebhookUrl('https://my-service.test/x', [], aliasOfLocalhost),
    'webhook_url host my-service.test resolves to a private address; only public addresses may receive webhooks', 'the address itself is not revealed');
});

t.test('allowed', async (t) => {
  for (const url of ['https://hooks.example.com/x', 'https://dual.example.com/x', 'https://93.184.216.34/x', 'https://[2606:4700::1]/x', 'https://unknown.example.net/x']) {
    t.equal(await checkWebhookUrl(url, [], resolver), null, url);
  }
});

t.test('the allowlist lets private hosts, IPs and CIDRs through, http included', async (t) => {
  t.equal(await checkWebhookUrl('http://127.0.0.1:8080/x', ['127.0.0.1'], resolver), null, 'IP');
  t.equal(await checkWebhookUrl('http://2130706433:8080/x', ['127.0.0.1'], resolver), null, 'decimal spelling of an allowlisted IP');
  t.equal(await checkWebhookUrl('http://localhost:8080/x', ['localhost'], resolver), null, 'host name');
  t.equal(await checkWebhookUrl('https://internal.example.com/x', ['10.0.0.0/8'], resolver), null, 'CIDR covering the resolved address');
  t.equal(await checkWebhookUrl('http://internal.example.com/x', ['10.0.0.0/8'], resolver), null, 'http when every address is allowlisted');
  t.equal(await checkWebhookUrl('https://[fd12::1]/x', ['fd00::/8'], resolver), null, 'IPv6 CIDR');
  t.type(await checkWebhookUrl('https://10.0.0.1/x', ['192.168.0.0/16'], resolver), 'string', 'a CIDR that does not cover it');
  t.type(await checkWebhookUrl('https://rebind.example.com/x', ['10.0.0.0/8'], resolver), 'string', 'allowlist of another range');
});

t.test('connect-time address check', async (t) => {
  t.equal(addressRefusal('93.184.216.34', []), null);
  t.match(addressRefusal('127.0.0.1', []), /loopback/);
  t.match(addressRefusal('::ffff:10.0.0.1', []), /IPv4-mapped/);
  t.equal(addressRefusal('::ffff:127.0.0.1', ['127.0.0.1']), null, 'mapped spelling of an allowlisted IPv4');
  t.ok(isAllowlisted('LOCALHOST.', ['localhost']), 'names compare case- and trailing-dot-insensitively');
});
