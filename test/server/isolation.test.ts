// Tenant isolation: through the API, and by row-level security when a query's own filter is
// removed (the API's statements run as oriva_api with an app acting but no app filter).
import t from 'tap';
import { inTransaction, run } from '../../lib/db.js';
import { sqlFile, sqlStatement } from '../../lib/sql.js';
import { testDatabase } from '../helpers/db.js';
import { createTestApp, startTestServer, userAuth } from '../helpers/stack.js';
import { client, notification, rowCounts } from './http.js';

const db = await testDatabase(t);
const call = client(await startTestServer(t, db));
const a = await createTestApp(db, { id: 'app-a' });
const b = await createTestApp(db, { id: 'app-b' });
const alice = await userAuth('alice');
const bob = await userAuth('bob');

const bNote = (await call('POST', '/apps/app-b/notifications', { headers: b.auth, json: notification({ user_id: 'alice', title: 'from B' }) })).body.notification_id;
await call('POST', '/apps/app-a/notifications', { headers: a.auth, json: notification({ user_id: 'alice', title: 'from A' }) });
await call('POST', '/apps/app-b/events', { headers: b.auth, json: { event_category: 'secret', event_type: 'thing', entity_type: 'x', entity_id: '1', user_id: 'bob' } });
const bHook = (await call('POST', '/apps/app-b/webhooks', { headers: b.auth, json: { webhook_url: 'https://93.184.215.14/b', subscribed_events: ['*'] } })).body.webhook_id;

t.test("over HTTP: an app never reads or changes another app's notifications, events or webhooks", async (t) => {
  const before = await rowCounts(db);
  const feed = await call('GET', '/users/alice/notifications', { headers: a.auth });
  t.same(feed.body.notifications.map((n: { title: string }) => n.title), ['from A']);
  t.equal((await call('PATCH', `/notifications/${bNote}`, { headers: a.auth, json: { status: 'dismissed' } })).status, 403);
  t.equal((await call('DELETE', `/notifications/${bNote}`, { headers: a.auth })).status, 403);
  t.equal((await call('GET', '/apps/app-b/events', { headers: a.auth })).status, 403);
  const ownEvents = await call('GET', '/apps/app-a/events?limit=500', { headers: a.auth });
  t.ok(ownEvents.body.events.every((e: { app_id: string }) => e.app_id === 'app-a'));
  t.equal((await call('PATCH', `/apps/app-a/webhooks/${bHook}`, { headers: a.auth, json: { is_active: false } })).status, 403);
  t.same((await call('GET', '/apps/app-a/webhooks', { headers: a.auth })).body.webhooks, []);
  t.same(await rowCounts(db), before);
});

t.test("over HTTP: a user token never reads another user's feed", async (t) => {
  t.equal((await call('GET', '/users/alice/notifications', { headers: bob.auth })).status, 403);
  t.equal((await call('PATCH', `/notifications/${bNote}`, { headers: bob.auth, json: { status: 'read' } })).status, 403);
  t.equal((await call('GET', '/users/alice/notifications', { headers: alice.auth })).body.notifications.length, 2);
});

t.test('row-level security: the same statements with the app filter removed still see only the actor’s rows', async (t) => {
  const api = db.pool('oriva_api');
  const feed = sqlStatement<Record<string, unknown>, { notifications: { title: string }[]; unread_count: number }>('notifications/feed');
  const feedOfAlice = { user_id: 'alice', app_id: null, category: null, notification_type: null, status: null, limit: 50, offset: 0, cursor_rank: null, cursor_created_us: null, cursor_id: null };
  const asA = await inTransaction(api, { appId: 'app-a' }, (c) => run(c, feed, feedOfAlice));
  t.same(asA[0]!.notifications.map((n) => n.title), ['from A'], 'feed without app filter, acting as app A');
  t.equal(asA[0]!.unread_count, 1);
  const asBob = await inTransaction(api, { userId: 'bob' }, (c) => run(c, feed, feedOfAlice));
  t.same(asBob[0]!.notifications, [], "bob's transaction sees none of alice's notifications");
  const events = await inTransaction(api, { appId: 'app-a' }, (c) => run(c, sqlStatement('events/list'), {
    app_id: 'app-b', event_category: null, event_type: null, user_id: null, entity_id: null, start_date: null, end_date: null,
    limit: 100, offset: 0, cursor_created_us: null, cursor_seq: null,
  }));
  t.same(events, [], "app B's events are invisible to app A");
  const hooks = await inTransaction(api, { appId: 'app-a' }, (c) => run(c, sqlFile('webhooks/list'), ['app-b']));
  t.same(hooks, [], "app B's webhooks are invisible to app A");
  const change = await inTransaction(api, { appId: 'app-a' }, (c) => run(c, sqlStatement('notifications/update_state'), {
    id: bNote, app_id: null, user_id: null, status: 'dismissed', dismissed_from: null, click_action: null, source: 'app-a',
  }));
  t.same(change, [], 'the state change finds nothing to change');
  const removed = await inTransaction(api, { appId: 'app-a' }, (c) => run(c, sqlFile('notifications/delete'), [bNote, 'app-b', 'app-a']));
  t.same(removed, [], 'the delete finds nothing');
  const { rows } = await db.system.query(`select status from oriva.notification_state where notification_id = $1`, [bNote]);
  t.same(rows, [{ status: 'unread' }]);
});
