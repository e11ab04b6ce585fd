// The webhook HTTP client at connect time: the address actually dialled is judged, so literal
// private addresses in every spelling, names resolving to them, and DNS rebinding (public at
// registration, loopback when dialled) are refused before a byte reaches the receiver; allowlisted
// hosts pass. Plus the default 10 s timeout.
import t from 'tap';
import { DEFAULT_TIMEOUT_MS, makeWebhookClient } from '../../lib/webhooks/http-client.js';
import { checkWebhookUrl, type Resolver } from '../../lib/webhooks/url-policy.js';
import { testDatabase } from '../helpers/db.js';
import { createTestApp, startTestWorker } from '../helpers/stack.js';
import { deliveryLog, insertEvent, insertWebhook, until } from './helpers/fixtures.js';
import { startReceiver } from './helpers/receiver.js';

const receiver = await startReceiver(t);
const port = receiver.port;

t.test('connect time: every private address form is refused without contacting it', async (t) => {
  const client = makeWebhookClient({ allowlist: [] });
  t.teardown(() => client.close());
  const urls = [
    `http://127.0.0.1:${port}/x`,
    `http://2130706433:${port}/x`,
    `http://0x7f.1:${port}/x`,
    `http://017700000001:${port}/x`,
    `http://127.1:${port}/x`,
    `http://[::1]:${port}/x`,
    `http://[::ffff:127.0.0.1]:${port}/x`,
    `http://[::127.0.0.1]:${port}/x`,
    `http://[64:ff9b::7f00:1]:${port}/x`,
    `http://0.0.0.0:${port}/x`,
    `http://10.0.0.1:${port}/x`,
    `http://172.16.0.1:${port}/x`,
    `http://192.168.0.1:${port}/x`,
    `http://100.64.0.1:${port}/x`,
    `http://169.254.169.254/latest/meta-data`,
    `http://[fd00:ec2::254]/latest/meta-data`,
    `http://[fe80::1]:${port}/x`,
    `http://[fc00::1]:${port}/x`,
    `http://localhost:${port}/x`,
  ];
  for (const url of urls) {
    const outcome = await client.post(url, {}, '{}');
    t.match(outcome, { ok: false, kind: 'refused', error: /^refused: / }, `${url}: ${outcome.ok ? 'sent' : outcome.error}`);
  }
  t.equal(receiver.requests('/x').length, 0, 'the loopback receiver saw nothing');
});

t.test('DNS rebinding: a name that was public at registration and resolves to loopback when dialled', async (t) => {
  let answers = 0;
  // First answer (registration) public, later answers (connect) loopback.
  const rebinding: Resolver = async () => (answers++ === 0 ? ['93.184.216.34'] : ['127.0.0.1']);
  t.equal(await checkWebhookUrl(`https://rebind.test:${port}/r`, [], rebinding), null, 'registration accepted it');
  const client = makeWebhookClient({ allowlist: [], resolver: rebinding });
  t.teardown(() => client.close());
  const outcome = await client.post(`http://rebind.test:${port}/r`, {}, '{}');
  t.match(outcome, { ok: false, kind: 'refused', error: /rebind\.test resolves to a private address/ });
  t.equal(receiver.requests('/r').length, 0, 'nothing reached loopback');
});

t.test('a name resolving to loopback (system resolver: localhost) is refused; allowlisted hosts pass', async (t) => {
  const aliasOfLocalhost: Resolver = async () => ['127.0.0.1'];
  const strict = makeWebhookClient({ allowlist: [], resolver: aliasOfLocalhost });
  const byIp = makeWebhookClient({ allowlist: ['127.0.0.1'] });
  const byName = makeWebhookClient({ allowlist: ['localhost'] });
  const byCidr = makeWebhookClient({ allowlist: ['127.0.0.0/8'], resolver: aliasOfLocalhost });
  t.teardown(() => Promise.all([strict.close(), byIp.close(), byName.close(), byCidr.close()]));
  t.match(await strict.post(`http://my-service.test:${port}/a`, {}, '{}'), { ok: false, kind: 'refused' });
  t.match(await byIp.post(`http://127.0.0.1:${port}/a`, {}, '{}'), { ok: true, status: 200 });
  t.match(await byName.post(`http://localhost:${port}/a`, {}, '{}'), { ok: true, status: 200 });
  t.match(await byCidr.post(`http://my-service.test:${port}/a`, {}, '{}'), { ok: true, status: 200 });
  t.match(await byIp.post(`http://127.0.0.2:${port}/a`, {}, '{}'), { ok: false, kind: 'refused' }, 'an allowlisted IP opens that IP only');
  t.equal(receiver.requests('/a').length, 3);
});

t.test('the worker refuses at connect time a webhook row that bypassed registration', async (t) => {
  const db = await testDatabase(t);
  const app = await createTestApp(db, { id: 'sneaky' });
  await startTestWorker(t, db, { WEBHOOK_ALLOWLIST: '' }, { concurrency: 2 });
  const hook = await insertWebhook(db.system, app.appId, { url: `http://127.0.0.1:${port}/direct`, maxRetries: 0 });
  await insertEvent(db.system, app.appId);
  const [row] = await until(async () => { const r = await deliveryLog(db.system, hook.id); return r.length === 1 && r; }, 10_000, 'log row');
  t.match(row, { success: false, status_code: null, error_message: /^refused: .*loopback/ });
  t.equal(receiver.requests('/direct').length, 0);
});

t.test('the default timeout is 10 s', async (t) => {
  t.equal(DEFAULT_TIMEOUT_MS, 10_000);
  receiver.on('/never', () => {});
  const client = makeWebhookClient({ allowlist: ['127.0.0.1'] });
  t.teardown(() => client.close());
  const outcome = await client.post(receiver.url('/never'), {}, '{}');
  t.match(outcome, { ok: false, kind: 'timeout', error: 'no complete response within 10000 ms' });
  t.ok(outcome.ms >= 9900 && outcome.ms < 11_000, `gave up after ${outcome.ms} ms`);
});
