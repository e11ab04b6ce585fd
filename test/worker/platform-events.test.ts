// Platform events reach the apps a user installed (issue 13, item 3): Oriva Core publishes
// user.profile_updated for U through the REST API; the webhooks of the apps U installed that
// subscribed to it get it, signed as any delivery; an app U did not install, and an installed app
// that did not subscribe, do not; an installed app's WebSocket app connection gets it live and on
// resume. A third-party app's own events stay its own.
import t from 'tap';
import { Webhook } from 'standardwebhooks';
import { testDatabase } from '../helpers/db.js';
import { createTestApp, startTestServer, startTestWorker } from '../helpers/stack.js';
import { Client, gateway } from '../gateway/helpers.js';
import { client } from '../server/http.js';
import { insertWebhook } from './helpers/fixtures.js';
import { startReceiver } from './helpers/receiver.js';

const db = await testDatabase(t);
const call = client(await startTestServer(t, db, { INSTALL_REQUIRED: 'true' }));
const gw = await gateway(t, db.url);
const receiver = await startReceiver(t);
await startTestWorker(t, db, { WEBHOOK_ALLOWLIST: '127.0.0.1' }, { concurrency: 4 });

const core = await createTestApp(db, { id: 'oriva-core', name: 'Oriva Core', platform: true });
const buddy = await createTestApp(db, { id: 'work-buddy' });
const hugo = await createTestApp(db, { id: 'hugo-ai' });
const quiet = await createTestApp(db, { id: 'quiet-app' });
const stranger = await createTestApp(db, { id: 'stranger-app' });

for (const app of [buddy, hugo, quiet]) {
  const installed = await call('PUT', `/users/user_u/apps/${app.appId}`, { headers: core.auth });
  if (installed.status !== 201) throw new Error(`install ${app.appId}: ${installed.status}`);
}
const hooks = {
  buddy: await insertWebhook(db.system, buddy.appId, { url: receiver.url('/buddy'), events: ['user.profile_updated'] }),
  hugo: await insertWebhook(db.system, hugo.appId, { url: receiver.url('/hugo'), events: ['user.*'] }),
  quiet: await insertWebhook(db.system, quiet.appId, { url: receiver.url('/quiet'), events: ['task.*'] }),
  stranger: await insertWebhook(db.system, stranger.appId, { url: receiver.url('/stranger'), events: ['*'] }),
};

const publish = (app: { appId: string; auth: Record<string, string> }, userId: string, category = 'user', type = 'profile_updated') =>
  call('POST', `/apps/${app.appId}/events`, {
    headers: app.auth,
    json: { event_category: category, event_type: type, entity_type: 'user', entity_id: userId, user_id: userId, event_data: { fields: ['display_name'] } },
  });

t.test("a platform app's event about U reaches the subscribed webhooks of the apps U installed, signed, and no one else's", async (t) => {
  const buddySocket = await Client.open(t, gw, { query: { auth: buddy.apiKey } });
  const strangerSocket = await Client.open(t, gw, { query: { auth: stranger.apiKey } });
  const res = await publish(core, 'user_u');
  t.equal(res.status, 200);

  for (const [name, hook] of [['buddy', hooks.buddy], ['hugo', hooks.hugo]] as const) {
    const [request] = await receiver.waitFor(`/${name}`, 1);
    const payload = new Webhook(hook.secret).verify(request!.body, request!.headers as Record<string, string>) as { type: string; data: Record<string, unknown> };
    t.equal(payload.type, 'user.profile_updated', `${name}: verified with its own secret`);
    t.match(payload.data, { event_id: res.body.event_id, app_id: 'oriva-core', user_id: 'user_u', event_data: { source: 'oriva-core', fields: ['display_name'] } });
  }
  const live = await buddySocket.next((m) => m.type === 'event' && m.event_id === res.body.event_id);
  t.match(live, { event_category: 'user', event_type: 'profile_updated', app_id: 'oriva-core', user_id: 'user_u' }, "an installed app's app connection gets it live");

  await new Promise((resolve) => setTimeout(resolve, 500));
  t.same(receiver.requests('/quiet'), [], 'an installed app that did not subscribe gets nothing');
  t.same(receiver.requests('/stranger'), [], 'an app U did not install gets nothing');
  t.notOk(strangerSocket.events().some((m) => m.event_id === res.body.event_id), "nor does its app connection");
  const { rows } = await db.system.query(`select w.app_id from oriva.webhook_delivery_log l join oriva.app_webhooks w on w.id = l.webhook_id
                                           where l.event_id = $1 order by w.app_id`, [res.body.event_id]);
  t.same(rows.map((r) => r.app_id), ['hugo-ai', 'work-buddy'], 'exactly two deliveries were made');
});

t.test("a platform event about a user who installed nothing reaches no other app; a third-party app's events stay its own", async (t) => {
  await publish(core, 'user_nobody');
  t.equal((await call('PUT', '/users/user_u/apps/stranger-app', { headers: core.auth })).status, 201);
  const own = await publish(stranger, 'user_u', 'user', 'profile_updated');
  t.equal(own.status, 200);
  // stranger-app's '*' webhook hears its own app.installed and its own event; nothing from oriva-core.
  const heard = (await receiver.waitFor('/stranger', 2)).map((r) => JSON.parse(r.body) as { type: string; data: { app_id: string; event_id: string } });
  t.same(heard.map((p) => [p.type, p.data.app_id]).sort(), [['app.installed', 'stranger-app'], ['user.profile_updated', 'stranger-app']]);
  t.ok(heard.some((p) => p.data.event_id === own.body.event_id));
  await new Promise((resolve) => setTimeout(resolve, 500));
  t.equal(receiver.requests('/buddy').length, 1, "buddy got neither the event about user_nobody nor stranger-app's own event");
  t.equal(receiver.requests('/hugo').length, 1);
  t.equal(receiver.requests('/stranger').length, 2);
});

t.test('an installed app connection that resumes gets the platform events it missed', async (t) => {
  const first = await Client.open(t, gw, { query: { auth: hugo.apiKey } });
  const event = await publish(core, 'user_u', 'user', 'settings_changed');
  const seen = await first.next((m) => m.type === 'event' && m.event_id === event.body.event_id);
  await first.close();
  const resumed = await Client.open(t, gw, { query: { auth: hugo.apiKey, after: (seen.seq as number) - 1 } });
  t.ok(resumed.events().some((m) => m.event_id === event.body.event_id), 'replayed on resume');
});
