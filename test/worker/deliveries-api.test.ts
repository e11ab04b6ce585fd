// Through the REST API: registering webhooks refuses the SSRF table (400 invalid_webhook_url,
// nothing written); a user dismissing an app's notification reaches the app's webhook; the
// delivery log lists every attempt; replays (one, and every failed one since a time) resend with
// the original webhook-id; another app cannot see or replay them.
import t from 'tap';
import { Webhook } from 'standardwebhooks';
import { testDatabase } from '../helpers/db.js';
import { createTestApp, startTestServer, startTestWorker, userAuth } from '../helpers/stack.js';
import { client, notification } from '../server/http.js';
import { deliveryLog, until } from './helpers/fixtures.js';
import { startReceiver } from './helpers/receiver.js';

const db = await testDatabase(t);
const app = await createTestApp(db, { id: 'work-buddy' });
const other = await createTestApp(db, { id: 'hugo-ai' });
const receiver = await startReceiver(t);
const server = await startTestServer(t, db, { WEBHOOK_ALLOWLIST: '127.0.0.1' });
await startTestWorker(t, db, { WEBHOOK_ALLOWLIST: '127.0.0.1' }, { concurrency: 2 });
const call = client(server);

t.test('registration refuses every SSRF address form, and writes nothing', async (t) => {
  // A server with the production default: nothing allowlisted.
  const strict = client(await startTestServer(t, db, { WEBHOOK_ALLOWLIST: '' }));
  const refused = [
    'http://example.com/hook', 'https://127.0.0.2/x', 'https://10.0.0.1/x', 'https://172.16.0.1/x', 'https://192.168.1.1/x',
    'https://169.254.169.254/latest/meta-data', 'https://100.64.0.1/x', 'https://0.0.0.0/x', 'https://[::1]/x', 'https://[fe80::1]/x',
    'https://[fd00:ec2::254]/x', 'https://[fc00::1]/x', 'https://[::ffff:127.0.0.1]/x', 'https://[::127.0.0.1]/x', 'https://[64:ff9b::a00:1]/x',
    'https://2130706433/x', 'https://0x7f.1/x', 'https://017700000001/x', 'https://metadata.google.internal/x', 'https://localhost/x',
  ];
  for (const url of refused) {
    const answer = await strict('POST', `/apps/${app.appId}/webhooks`, { headers: app.auth, json: { webhook_url: url, subscribed_events: ['*'] } });
    t.match(answer, { status: 400, body: { success: false, error: { code: 'invalid_webhook_url' } } }, `${url}: ${answer.body?.error?.message}`);
  }
  const { rows } = await db.system.query('select count(*)::int as n from oriva.app_webhooks');
  t.equal(rows[0].n, 0, 'nothing was written');
  const allowed = await strict('POST', `/apps/${app.appId}/webhooks`, { headers: app.auth, json: { webhook_url: 'https://93.184.216.34/hook', subscribed_events: ['none.none'] } });
  t.equal(allowed.status, 201, 'a public https address is accepted');
  await db.system.query('delete from oriva.app_webhooks');
});

t.test('a user dismissing an app\'s notification reaches that app\'s webhook, signed', async (t) => {
  const created = await call('POST', `/apps/${app.appId}/webhooks`, { headers: app.auth, json: { webhook_url: receiver.url('/dismissed'), subscribed_events: ['notification.dismissed'] } });
  t.equal(created.status, 201);
  const note = await call('POST', `/apps/${app.appId}/notifications`, { headers: app.auth, json: notification({ user_id: 'user_456' }) });
  t.equal(note.status, 201);
  const { auth } = await userAuth('user_456');
  const patched = await call('PATCH', `/notifications/${note.body.notification_id}`, { headers: auth, json: { status: 'dismissed', dismissed_from: 'oriva_core' } });
  t.equal(patched.status, 200);
  const [request] = await receiver.waitFor('/dismissed', 1);
  const body = new Webhook(created.body.webhook_secret).verify(request!.body, request!.headers as Record<string, string>) as { type: string; data: { event_data: Record<string, unknown> } };
  t.equal(body.type, 'notification.dismissed');
  t.match(body.data.event_data, { notification_id: note.body.notification_id, status: 'dismissed', dismissed_from: 'oriva_core' });
});

t.test('delivery log listing, one replay, and replay of every failed delivery since a time', async (t) => {
  let down = true;
  receiver.on('/replay', (_req, res) => res.writeHead(down ? 500 : 200).end(down ? 'down' : 'up'));
  const created = await call('POST', `/apps/${app.appId}/webhooks`, { headers: app.auth, json: { webhook_url: receiver.url('/replay'), subscribed_events: ['task.*'], max_retries: 0 } });
  const hookId: string = created.body.webhook_id;
  const since = new Date().toISOString();
  for (const type of ['created', 'completed']) {
    const sent = await call('POST', `/apps/${app.appId}/events`, { headers: app.auth, json: { event_category: 'task', event_type: type, entity_type: 'task', entity_id: `t-${type}`, user_id: 'user_456', event_data: {} } });
    t.equal(sent.status, 200, `event task.${type}`);
  }
  await until(async () => (await deliveryLog(db.system, hookId)).length === 2, 10_000, 'two failed attempts');

  const listed = await call('GET', `/apps/${app.appId}/webhooks/${hookId}/deliveries?limit=1`, { headers: app.auth });
  t.equal(listed.status, 200);
  t.equal(listed.body.deliveries.length, 1);
  t.match(listed.body.deliveries[0], { success: false, status_code: 500, response_body: 'down', delivery_attempt: 1, delivery_id: /^msg_/ });
  t.type(listed.body.next_cursor, 'string');
  const page2 = await call('GET', `/apps/${app.appId}/webhooks/${hookId}/deliveries?limit=1&cursor=${listed.body.next_cursor}`, { headers: app.auth });
  t.equal(page2.body.deliveries.length, 1);
  t.not(page2.body.deliveries[0].id, listed.body.deliveries[0].id, 'the next page continues');
  t.equal(page2.body.next_cursor, null);
  const [first, second] = [listed.body.deliveries[0].delivery_id, page2.body.deliveries[0].delivery_id];

  down = false;
  const one = await call('POST', `/apps/${app.appId}/webhooks/${hookId}/deliveries/${first}/replay`, { headers: app.auth });
  t.match(one, { status: 202, body: { success: true, delivery_id: first } });
  await until(async () => receiver.requests('/replay').some((r, i) => i >= 2 && r.headers['webhook-id'] === first), 10_000, 'replayed');
  t.equal(receiver.requests('/replay').length, 3, 'one resend');

  const bulk = await call('POST', `/apps/${app.appId}/webhooks/${hookId}/replay`, { headers: app.auth, json: { since } });
  t.match(bulk, { status: 202, body: { success: true, replayed: 1, delivery_ids: [second] } }, 'only the delivery that is still failed');
  const requests = await receiver.waitFor('/replay', 4, 10_000);
  t.equal(requests[3]!.headers['webhook-id'], second, 'replays keep the original webhook-id');
  const after = await call('GET', `/apps/${app.appId}/webhooks/${hookId}/deliveries?success=true`, { headers: app.auth });
  t.equal(after.body.deliveries.length, 2, 'both now delivered');

  const none = await call('POST', `/apps/${app.appId}/webhooks/${hookId}/replay`, { headers: app.auth, json: { since } });
  t.match(none.body, { replayed: 0 }, 'nothing left to replay');
  const bad = await call('POST', `/apps/${app.appId}/webhooks/${hookId}/replay`, { headers: app.auth, json: { since: 'yesterday' } });
  t.equal(bad.status, 400);
  const unknown = await call('POST', `/apps/${app.appId}/webhooks/${hookId}/deliveries/msg_nope/replay`, { headers: app.auth });
  t.equal(unknown.status, 404);

  t.equal((await call('GET', `/apps/${other.appId}/webhooks/${hookId}/deliveries`, { headers: other.auth })).status, 403, "another app: this webhook is not its own");
  t.equal((await call('GET', `/apps/${app.appId}/webhooks/${hookId}/deliveries`, { headers: other.auth })).status, 403, "another app's key on this app's path");
  t.equal((await call('POST', `/apps/${other.appId}/webhooks/${hookId}/replay`, { headers: other.auth, json: { since } })).status, 403);
  t.equal((await call('GET', `/apps/${app.appId}/webhooks/00000000-0000-4000-8000-000000000000/deliveries`, { headers: app.auth })).status, 404);

  await db.system.query(`update oriva.app_webhooks set is_active = false, disabled_reason = 'endpoint answered 410 Gone' where id = $1`, [hookId]);
  const disabled = await call('POST', `/apps/${app.appId}/webhooks/${hookId}/deliveries/${first}/replay`, { headers: app.auth });
  t.match(disabled, { status: 409, body: { error: { code: 'webhook_disabled' } } });
});
