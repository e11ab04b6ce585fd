// The seed's integration scenarios (T013–T017) over real HTTP and a real database.
import t from 'tap';
import { testDatabase } from '../helpers/db.js';
import { createTestApp, startTestServer, userAuth } from '../helpers/stack.js';
import { client, notification } from './http.js';

const db = await testDatabase(t);
const call = client(await startTestServer(t, db));
const wb = await createTestApp(db, { id: 'work-buddy', name: 'Work Buddy', iconUrl: 'https://workbuddy.example/icon.png' });
const hugo = await createTestApp(db, { id: 'hugo-ai', name: 'Hugo AI', iconUrl: 'https://hugo.example/icon.png' });
const tester = await createTestApp(db, { id: 'test-app', name: 'Test App' });
const core = await createTestApp(db, { id: 'oriva-core', name: 'Oriva Core', platform: true });
const user = await userAuth('user_456');

const reminder = (overrides: Record<string, unknown> = {}) => notification({
  external_id: `wb_notif_${Math.random().toString(36).slice(2)}`, user_id: 'user_456', notification_type: 'session_reminder',
  title: 'Session starting in 10 minutes', body: 'Your session with Sarah starts soon', action_url: 'workbuddy://session/789',
  action_label: 'View Session', priority: 'high', context_data: { session_id: 'session_789' }, ...overrides,
});
const create = async (app = wb, overrides: Record<string, unknown> = {}) =>
  (await call('POST', `/apps/${app.appId}/notifications`, { headers: app.auth, json: reminder(overrides) })).body.notification_id as string;
const events = async (id: string) => (await db.system.query(`select event_type, event_data from oriva.platform_events where entity_id = $1 order by seq`, [id])).rows;
const unreadFeed = async () => (await call('GET', '/users/user_456/notifications?status=unread', { headers: core.auth })).body.notifications.map((n: { id: string }) => n.id);

t.test('T013 an app creates a notification: row, unread state, created event, in the feed with branding', async (t) => {
  const id = await create();
  const { rows } = await db.system.query(`select s.status from oriva.notification_state s where s.notification_id = $1`, [id]);
  t.same(rows, [{ status: 'unread' }]);
  t.match(await events(id), [{ event_type: 'created', event_data: { source: 'work-buddy', notification: { id } } }]);
  const feed = await call('GET', '/users/user_456/notifications', { headers: user.auth });
  t.match(feed.body.notifications.find((n: { id: string }) => n.id === id), {
    app_name: 'Work Buddy', app_icon: 'https://workbuddy.example/icon.png', title: 'Session starting in 10 minutes', action_url: 'workbuddy://session/789', status: 'unread',
  });
});

t.test('T014 the user dismisses in Oriva Core: dismissed everywhere, event, idempotent', async (t) => {
  const id = await create();
  const res = await call('PATCH', `/notifications/${id}`, { headers: user.auth, json: { status: 'dismissed', dismissed_from: 'oriva_core' } });
  t.match(res.body, { success: true, status: 'dismissed' });
  const { rows } = await db.system.query(`select dismissed_at, dismissed_from from oriva.notification_state where notification_id = $1`, [id]);
  t.ok(rows[0].dismissed_at);
  t.equal(rows[0].dismissed_from, 'oriva_core');
  t.match((await events(id)).at(-1), { event_type: 'dismissed', event_data: { source: 'oriva_core', dismissed_from: 'oriva_core' } });
  t.notOk((await unreadFeed()).includes(id), 'not in the unread feed');
  const own = await call('GET', '/users/user_456/notifications?status=unread', { headers: wb.auth });
  t.notOk(own.body.notifications.some((n: { id: string }) => n.id === id), "not in the app's own view either");
  t.equal((await call('PATCH', `/notifications/${id}`, { headers: user.auth, json: { status: 'dismissed' } })).status, 200, 'dismissing twice is fine');
});

t.test('T015 the app dismisses on the user’s behalf: Oriva Core no longer shows it', async (t) => {
  const id = await create();
  t.ok((await unreadFeed()).includes(id));
  const res = await call('PATCH', `/notifications/${id}`, { headers: wb.auth, json: { status: 'dismissed', dismissed_from: 'work_buddy' } });
  t.equal(res.status, 200);
  t.match((await events(id)).at(-1), { event_type: 'dismissed', event_data: { source: 'work_buddy' } });
  const feed = await call('GET', '/users/user_456/notifications', { headers: core.auth });
  t.notOk(feed.body.notifications.some((n: { id: string }) => n.id === id));
  t.equal((await call('PATCH', `/notifications/${id}`, { headers: wb.auth, json: { status: 'dismissed', dismissed_from: 'work_buddy' } })).body.changed, false, 'same result twice');
});

t.test('T016 the user clicks the action: clicked_at, click_action, event carries it', async (t) => {
  const id = await create();
  const res = await call('PATCH', `/notifications/${id}`, { headers: user.auth, json: { status: 'clicked', click_action: 'workbuddy://session/789' } });
  t.match(res.body, { status: 'clicked', previous_status: 'unread' });
  const { rows } = await db.system.query(`select clicked_at, click_action from oriva.notification_state where notification_id = $1`, [id]);
  t.ok(rows[0].clicked_at);
  t.equal(rows[0].click_action, 'workbuddy://session/789');
  t.match((await events(id)).at(-1), { event_type: 'clicked', event_data: { click_action: 'workbuddy://session/789', source: 'user' } });
});

t.test('T017 three apps in one feed: all there, sorted by priority then time, branded, filterable', async (t) => {
  const ids = {
    wb: await create(wb, { priority: 'normal', user_id: 'user_t017' }),
    hugo: await create(hugo, { priority: 'urgent', user_id: 'user_t017' }),
    test: await create(tester, { priority: 'low', user_id: 'user_t017' }),
    wb2: await create(wb, { priority: 'normal', user_id: 'user_t017' }),
  };
  const feed = await call('GET', '/users/user_t017/notifications', { headers: core.auth });
  t.same(feed.body.notifications.map((n: { id: string }) => n.id), [ids.hugo, ids.wb2, ids.wb, ids.test]);
  t.same(feed.body.notifications.map((n: { app_name: string }) => n.app_name), ['Hugo AI', 'Work Buddy', 'Work Buddy', 'Test App']);
  t.equal(feed.body.unread_count, 4);
  const filtered = await call('GET', '/users/user_t017/notifications?app_id=work-buddy', { headers: core.auth });
  t.same(filtered.body.notifications.map((n: { id: string }) => n.id), [ids.wb2, ids.wb]);
  t.equal(filtered.body.unread_count, 2);
});
