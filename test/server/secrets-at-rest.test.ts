// Webhook secrets are encrypted at rest (SECRETS_KEY): not findable as text in any table after a
// create, an idempotent replay of it and a rotation; deliveries are still signed with them; the key
// rotates (both keys, re-encrypt, then only the new); a secret whose key is gone is a failed delivery
// with the reason, not a crash.
import t from 'tap';
import { Webhook } from 'standardwebhooks';
import { generateSecretsKey, parseSecretsKey } from '../../lib/secrets.js';
import { reencryptWebhookSecrets } from '../../lib/webhooks/reencrypt.js';
import { testDatabase } from '../helpers/db.js';
import { createTestApp, startTestServer, startTestWorker, TEST_SECRETS_KEY, userAuth } from '../helpers/stack.js';
import { deliveryLog, insertWebhook, until } from '../worker/helpers/fixtures.js';
import { startReceiver } from '../worker/helpers/receiver.js';
import { client, notification } from './http.js';

const db = await testDatabase(t);
const call = client(await startTestServer(t, db, { WEBHOOK_ALLOWLIST: '127.0.0.1' }));
const app = await createTestApp(db, { id: 'work-buddy' });
const receiver = await startReceiver(t);

/** Every row of every table as text (what a dump would hold) that contains any of these strings. */
async function tablesHolding(needles: string[]): Promise<string[]> {
  const { rows: tables } = await db.owner.query(`
    select format('%I.%I', schemaname, tablename) as name from pg_tables where schemaname not in ('pg_catalog', 'information_schema')`);
  const found: string[] = [];
  for (const { name } of tables) {
    const { rows } = await db.owner.query(`select t::text as row from ${name} t`);
    if (rows.some((r) => needles.some((n) => r.row.includes(n)))) found.push(name);
  }
  return found;
}

const hook = (path: string) => ({ webhook_url: receiver.url(path), subscribed_events: ['notification.*'] });

t.test('create (with an Idempotency-Key, replayed) and rotate: no secret findable as text in any table', async (t) => {
  const headers = { ...app.auth, 'idempotency-key': 'create-hook-1' };
  const created = await call('POST', '/apps/work-buddy/webhooks', { headers, json: hook('/signed') });
  t.equal(created.status, 201);
  const replay = await call('POST', '/apps/work-buddy/webhooks', { headers, json: hook('/signed') });
  t.equal(replay.headers.get('idempotent-replayed'), 'true');
  t.same(replay.body, created.body, 'the replay answers the same secret');
  const rotated = await call('POST', `/apps/work-buddy/webhooks/${created.body.webhook_id}/rotate-secret`, { headers: app.auth });
  t.equal(rotated.status, 200);
  const secrets = [created.body.webhook_secret, rotated.body.webhook_secret];
  t.same(await tablesHolding(secrets.flatMap((s: string) => [s, s.slice(6)])), [], 'neither secret, nor its key part, in any row of any table');
  const { rows } = await db.owner.query(`select response_body from oriva.idempotency_keys where key = 'create-hook-1'`);
  t.match(rows[0].response_body, { sealed: /^enc:v1:test:/ }, 'the stored reply is sealed');

  // Deliveries are signed with the decrypted secrets: both, while the rotation lasts.
  await startTestWorker(t, db, { WEBHOOK_ALLOWLIST: '127.0.0.1' });
  const user = await userAuth('user_456');
  const n = await call('POST', '/apps/work-buddy/notifications', { headers: app.auth, json: notification() });
  t.equal((await call('PATCH', `/notifications/${n.body.notification_id}`, { headers: user.auth, json: { status: 'read' } })).status, 200);
  const [request] = await receiver.waitFor('/signed', 1);
  const signed = request!.headers as Record<string, string>;
  t.ok(new Webhook(rotated.body.webhook_secret).verify(request!.body, signed), 'verifies with the new secret');
  t.ok(new Webhook(created.body.webhook_secret).verify(request!.body, signed), 'and with the previous one');
});

t.test('SECRETS_KEY rotation: both keys, re-encrypt, then only the new key; a lost key is a failed delivery', async (t) => {
  const created = await call('POST', '/apps/work-buddy/webhooks', { headers: app.auth, json: { ...hook('/rotating-key'), subscribed_events: ['session.*'] } });
  const secret = created.body.webhook_secret as string;
  const legacy = await insertWebhook(db.system, app.appId, { url: receiver.url('/legacy'), events: ['session.*'] }); // plaintext, as before encryption
  const newKey = generateSecretsKey('next');
  const both = parseSecretsKey(`${newKey},${TEST_SECRETS_KEY}`);
  t.ok((await reencryptWebhookSecrets(db.system, both)) >= 2, 'the API-made and the legacy plaintext secret are re-encrypted');
  t.equal(await reencryptWebhookSecrets(db.system, both), 0, 'idempotent');
  const { rows } = await db.system.query(`select webhook_secret from oriva.app_webhooks where id = any($1)`, [[created.body.webhook_id, legacy.id]]);
  t.ok(rows.every((r) => r.webhook_secret.startsWith('enc:v1:next:')), 'under the new key');
  t.same(await tablesHolding([secret, legacy.secret]), [], 'no plaintext left, the legacy secret included');

  // A worker with only the new key signs with both secrets.
  const worker = await startTestWorker(t, db, { WEBHOOK_ALLOWLIST: '127.0.0.1', SECRETS_KEY: newKey });
  const event = { event_category: 'session', event_type: 'started', entity_type: 'session', entity_id: 's1', user_id: 'user_456' };
  t.equal((await call('POST', '/apps/work-buddy/events', { headers: app.auth, json: event })).status, 200);
  const [one] = await receiver.waitFor('/rotating-key', 1);
  t.ok(new Webhook(secret).verify(one!.body, one!.headers as Record<string, string>));
  const [two] = await receiver.waitFor('/legacy', 1);
  t.ok(new Webhook(legacy.secret).verify(two!.body, two!.headers as Record<string, string>));
  await worker.close();

  // A worker whose SECRETS_KEY lacks the key records a failed delivery with the reason.
  await startTestWorker(t, db, { WEBHOOK_ALLOWLIST: '127.0.0.1', SECRETS_KEY: generateSecretsKey('other') });
  t.equal((await call('POST', '/apps/work-buddy/events', { headers: app.auth, json: event })).status, 200);
  const failed = await until(async () => (await deliveryLog(db.system, created.body.webhook_id)).find((r) => !r.success), 10_000, 'the failed attempt');
  t.match(failed, { success: false, status_code: null, error_message: 'cannot sign: the webhook secret is encrypted with key "next", which SECRETS_KEY does not list' });
  t.equal(receiver.requests('/rotating-key').length, 1, 'nothing was sent unsigned');
});
