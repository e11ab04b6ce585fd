// Contract tests: webhook management under /apps/:appId/webhooks.
import t from 'tap';
import { testDatabase } from '../helpers/db.js';
import { decryptSecret } from '../../lib/secrets.js';
import { createTestApp, startTestServer, testConfig } from '../helpers/stack.js';
import { client, failure, rowCounts } from './http.js';

const db = await testDatabase(t);
const server = await startTestServer(t, db, { WEBHOOK_ALLOWLIST: 'hooks.internal.test' });
const call = client(server);
const wb = await createTestApp(db, { id: 'work-buddy' });
const hugo = await createTestApp(db, { id: 'hugo-ai' });
const base = '/apps/work-buddy/webhooks';
/** A stored secret (encrypted at rest) as plaintext; null stays null. */
const plain = (stored: string | null) => (stored === null ? null : decryptSecret(testConfig().secrets, stored, 'work-buddy'));
const valid = { webhook_url: 'https://93.184.215.14/api/oriva-events', subscribed_events: ['notification.dismissed', 'notification.clicked'] };

t.test('create: 201 with a whsec_ secret shown once; list never shows it', async (t) => {
  const res = await call('POST', base, { headers: wb.auth, json: valid });
  t.equal(res.status, 201);
  t.match(res.body, { success: true, webhook_id: String, webhook_secret: /^whsec_[A-Za-z0-9+/]{43}=$/, created_at: String });
  t.ok(Buffer.from(res.body.webhook_secret.slice(6), 'base64').length >= 24, '24+ random bytes');
  const { rows } = await db.system.query(`select webhook_secret, subscribed_events, is_active from oriva.app_webhooks where id = $1`, [res.body.webhook_id]);
  t.match(rows[0].webhook_secret, /^enc:v1:test:/, 'stored encrypted');
  t.same({ ...rows[0], webhook_secret: plain(rows[0].webhook_secret) }, { webhook_secret: res.body.webhook_secret, subscribed_events: valid.subscribed_events, is_active: true });
  const list = await call('GET', base, { headers: wb.auth });
  t.equal(list.status, 200);
  t.equal(list.body.webhooks.length, 1);
  t.notOk(JSON.stringify(list.body).includes('whsec_'), 'no secret in the list');
  t.match(list.body.webhooks[0], { id: res.body.webhook_id, webhook_url: valid.webhook_url, subscribed_events: valid.subscribed_events, is_active: true });
});

t.test('create: each validation error → 400, nothing written', async (t) => {
  const before = await rowCounts(db);
  for (const [json, code] of [
    [{ ...valid, subscribed_events: [] }, 'validation_error'],
    [{ ...valid, subscribed_events: ['Not A Pattern'] }, 'validation_error'],
    [{ ...valid, subscribed_events: ['notification.*', 'notification.*'] }, 'validation_error'],
    [{ subscribed_events: ['*'] }, 'validation_error'],
    [{ ...valid, max_retries: 99 }, 'validation_error'],
    [{ ...valid, webhook_url: 'http://93.184.215.14/hook' }, 'invalid_webhook_url'],
    [{ ...valid, webhook_url: 'https://127.0.0.1/hook' }, 'invalid_webhook_url'],
    [{ ...valid, webhook_url: 'https://169.254.169.254/latest' }, 'invalid_webhook_url'],
    [{ ...valid, webhook_url: 'https://10.0.0.5/hook' }, 'invalid_webhook_url'],
    [{ ...valid, webhook_url: 'https://[::ffff:127.0.0.1]/hook' }, 'invalid_webhook_url'],
    [{ ...valid, webhook_url: 'not a url' }, 'invalid_webhook_url'],
    [{ ...valid, webhook_url: 'ftp://93.184.215.14/x' }, 'invalid_webhook_url'],
  ] as const) {
    const res = await call('POST', base, { headers: wb.auth, json });
    t.equal(res.status, 400, JSON.stringify(json));
    t.match(res.body, failure(code));
  }
  t.same(await rowCounts(db), before);
  const allowlisted = await call('POST', base, { headers: wb.auth, json: { ...valid, webhook_url: 'http://hooks.internal.test/x' } });
  t.equal(allowlisted.status, 201, 'an allowlisted host may be private and plain http');
});

t.test('update: URL, patterns, is_active; re-enabling clears the failure streak', async (t) => {
  const created = await call('POST', base, { headers: wb.auth, json: valid });
  const id = created.body.webhook_id;
  await db.system.query(`update oriva.app_webhooks set is_active = false, consecutive_failures = 100, disabled_reason = 'too many failures' where id = $1`, [id]);
  const res = await call('PATCH', `${base}/${id}`, { headers: wb.auth, json: { subscribed_events: ['notification.*'], is_active: true, webhook_url: 'https://93.184.215.14/v2' } });
  t.equal(res.status, 200);
  t.match(res.body.webhook, { id, subscribed_events: ['notification.*'], is_active: true, webhook_url: 'https://93.184.215.14/v2', consecutive_failures: 0, disabled_reason: null });
  const off = await call('PATCH', `${base}/${id}`, { headers: wb.auth, json: { is_active: false } });
  t.equal(off.body.webhook.is_active, false);
  const before = await rowCounts(db);
  for (const [json, status] of [[{}, 400], [{ webhook_url: 'https://192.168.1.1/' }, 400], [{ subscribed_events: [] }, 400], [{ secret: 'x' }, 400]] as const) {
    t.equal((await call('PATCH', `${base}/${id}`, { headers: wb.auth, json })).status, status, JSON.stringify(json));
  }
  t.equal((await call('PATCH', `${base}/00000000-0000-4000-8000-000000000000`, { headers: wb.auth, json: { is_active: true } })).status, 404);
  t.same(await rowCounts(db), before);
});

t.test('rotate-secret: a new secret; the previous one kept for 24 hours', async (t) => {
  const created = await call('POST', base, { headers: wb.auth, json: valid });
  const id = created.body.webhook_id;
  const res = await call('POST', `${base}/${id}/rotate-secret`, { headers: wb.auth });
  t.equal(res.status, 200);
  t.match(res.body, { success: true, webhook_id: id, webhook_secret: /^whsec_/, previous_secret_expires_at: String });
  t.not(res.body.webhook_secret, created.body.webhook_secret);
  const { rows } = await db.system.query(`select webhook_secret, previous_secret, previous_secret_expires_at - now() > interval '23 hours 59 minutes' as day from oriva.app_webhooks where id = $1`, [id]);
  t.same({ ...rows[0], webhook_secret: plain(rows[0].webhook_secret), previous_secret: plain(rows[0].previous_secret) }, { webhook_secret: res.body.webhook_secret, previous_secret: created.body.webhook_secret, day: true });
  t.equal((await call('POST', `${base}/00000000-0000-4000-8000-000000000000/rotate-secret`, { headers: wb.auth })).status, 404);
});

t.test('delete: 204, then 404', async (t) => {
  const created = await call('POST', base, { headers: wb.auth, json: valid });
  const res = await call('DELETE', `${base}/${created.body.webhook_id}`, { headers: wb.auth });
  t.equal(res.status, 204);
  t.equal((await call('DELETE', `${base}/${created.body.webhook_id}`, { headers: wb.auth })).status, 404);
  t.equal((await call('DELETE', `${base}/not-a-uuid`, { headers: wb.auth })).status, 400);
});

t.test("isolation: another app's path → 403; another app's webhook under its own path → 403; nothing changes", async (t) => {
  const created = await call('POST', base, { headers: wb.auth, json: valid });
  const id = created.body.webhook_id;
  const before = await rowCounts(db);
  t.equal((await call('GET', base, { headers: hugo.auth })).status, 403);
  t.equal((await call('POST', base, { headers: hugo.auth, json: valid })).status, 403);
  t.equal((await call('PATCH', `${base}/${id}`, { headers: hugo.auth, json: { is_active: false } })).status, 403);
  t.equal((await call('DELETE', `${base}/${id}`, { headers: hugo.auth })).status, 403);
  t.equal((await call('POST', `${base}/${id}/rotate-secret`, { headers: hugo.auth })).status, 403);
  const own = '/apps/hugo-ai/webhooks';
  t.equal((await call('PATCH', `${own}/${id}`, { headers: hugo.auth, json: { is_active: false } })).status, 403);
  t.equal((await call('DELETE', `${own}/${id}`, { headers: hugo.auth })).status, 403);
  t.equal((await call('POST', `${own}/${id}/rotate-secret`, { headers: hugo.auth })).status, 403);
  const list = await call('GET', own, { headers: hugo.auth });
  t.same(list.body.webhooks, [], "hugo's list is empty");
  t.equal((await call('GET', base)).status, 401);
  t.same(await rowCounts(db), before);
  const { rows } = await db.system.query(`select is_active, webhook_secret from oriva.app_webhooks where id = $1`, [id]);
  t.same({ ...rows[0], webhook_secret: plain(rows[0].webhook_secret) }, { is_active: true, webhook_secret: created.body.webhook_secret });
});
