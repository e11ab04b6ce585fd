// Contract tests: GET /users/:userId/notifications (the aggregated feed) and read-all.
import t from 'tap';
import { testDatabase } from '../helpers/db.js';
import { createTestApp, startTestServer, userAuth } from '../helpers/stack.js';
import { client, failure, notification, rowCounts } from './http.js';

const db = await testDatabase(t);
const server = await startTestServer(t, db);
const call = client(server);
const wb = await createTestApp(db, { id: 'work-buddy', name: 'Work Buddy', iconUrl: 'https://workbuddy.example/icon.png' });
const hugo = await createTestApp(db, { id: 'hugo-ai', name: 'Hugo AI' });
const core = await createTestApp(db, { id: 'oriva-core', name: 'Oriva Core', platform: true });
const user = await userAuth('feed_user');
const stranger = await userAuth('someone_else');

const create = async (app: typeof wb, overrides: Record<string, unknown>) => {
  const res = await call('POST', `/apps/${app.appId}/notifications`, { headers: app.auth, json: notification({ user_id: 'feed_user', ...overrides }) });
  if (res.status !== 201) throw new Error(`setup failed: ${JSON.stringify(res.body)}`);
  return res.body.notification_id as string;
};

// Setup: 6 notifications of two apps for one user, one for someone else, one already expired.
const ids = {
  low: await create(wb, { priority: 'low', title: 'low' }),
  normal1: await create(wb, { title: 'normal 1' }),
  urgent: await create(hugo, { priority: 'urgent', title: 'urgent' }),
  normal2: await create(hugo, { title: 'normal 2' }),
  high: await create(wb, { priority: 'high', title: 'high' }),
  soon: await create(wb, { title: 'expires soon', expires_at: new Date(Date.now() + 60_000).toISOString() }),
};
await create(wb, { user_id: 'someone_else', title: 'not yours' });
// Its time passes (no worker runs here: the feed must hide it on expires_at alone).
await db.system.query(`update oriva.platform_notifications set expires_at = now() - interval '1 second' where id = $1`, [ids.soon]);
await db.system.query(`update oriva.notification_state set expires_at = now() - interval '1 second' where notification_id = $1`, [ids.soon]);

const feedOf = async (query = '', auth = user.auth) => call('GET', `/users/feed_user/notifications${query}`, { headers: auth });

t.test('sorted by priority then newest first, with branding, unexpired only, exact unread_count', async (t) => {
  const res = await feedOf();
  t.equal(res.status, 200);
  t.same(res.body.notifications.map((n: { title: string }) => n.title), ['urgent', 'high', 'normal 2', 'normal 1', 'low']);
  t.match(res.body.notifications[1], { app_id: 'work-buddy', app_name: 'Work Buddy', app_icon: 'https://workbuddy.example/icon.png', status: 'unread', priority: 'high' });
  t.match(res.body.notifications[0], { app_id: 'hugo-ai', app_name: 'Hugo AI', app_icon: null });
  t.equal(res.body.unread_count, 5, 'the expired one is not counted');
  t.match(res.body.pagination, { total: 5, limit: 50, offset: 0, has_more: false });
});

t.test('app_id and status filters', async (t) => {
  const hugoOnly = await feedOf('?app_id=hugo-ai');
  t.same(hugoOnly.body.notifications.map((n: { title: string }) => n.title), ['urgent', 'normal 2']);
  t.equal(hugoOnly.body.unread_count, 2);
  await call('PATCH', `/notifications/${ids.normal1}`, { headers: user.auth, json: { status: 'read' } });
  await call('PATCH', `/notifications/${ids.low}`, { headers: user.auth, json: { status: 'dismissed' } });
  const read = await feedOf('?status=read');
  t.same(read.body.notifications.map((n: { title: string }) => n.title), ['normal 1']);
  const dismissed = await feedOf('?status=dismissed');
  t.same(dismissed.body.notifications.map((n: { title: string }) => n.title), ['low']);
  const all = await feedOf();
  t.same(all.body.notifications.map((n: { title: string }) => n.title), ['urgent', 'high', 'normal 2', 'normal 1'], 'dismissed leaves the default feed');
  t.equal(all.body.unread_count, 3, 'exact right after the change');
});

t.test('limit/offset and cursor pagination walk the same order', async (t) => {
  const first = await feedOf('?limit=2');
  t.equal(first.body.notifications.length, 2);
  t.equal(first.body.pagination.has_more, true);
  const second = await feedOf('?limit=2&offset=2');
  const byCursor = await feedOf(`?limit=2&cursor=${first.body.pagination.next_cursor}`);
  t.same(byCursor.body.notifications.map((n: { id: string }) => n.id), second.body.notifications.map((n: { id: string }) => n.id));
  const rest = await feedOf(`?limit=2&cursor=${byCursor.body.pagination.next_cursor}`);
  t.equal(rest.body.notifications.length, 0, 'four visible: two pages of two, then nothing');
  t.equal(rest.body.pagination.has_more, false);
});

t.test('bad query → 400 naming the parameter', async (t) => {
  for (const [query, field] of [['?limit=101', 'query/limit'], ['?limit=0', 'query/limit'], ['?offset=-1', 'query/offset'], ['?status=expired', 'query/status'], ['?app_id=NOT_AN_APP', 'query/app_id'], ['?cursor=garbage', 'query/cursor'], ['?colour=red', 'query/colour']] as const) {
    const res = await feedOf(query);
    t.equal(res.status, 400, query);
    t.match(res.body, failure('validation_error'));
    t.ok(res.body.error.details.some((d: { path: string }) => d.path === field), `${query} names ${field}`);
  }
});

t.test('who may read: own user, platform app, an app only its own; others 403; none 401', async (t) => {
  t.equal((await feedOf('', stranger.auth)).status, 403, "another user's token");
  t.match((await feedOf('', stranger.auth)).body, failure('forbidden'));
  t.equal((await call('GET', '/users/feed_user/notifications')).status, 401);
  const platform = await feedOf('', core.auth);
  t.equal(platform.body.notifications.length, 4, 'a platform app sees every app');
  const own = await feedOf('', hugo.auth);
  t.same([...new Set(own.body.notifications.map((n: { app_id: string }) => n.app_id))], ['hugo-ai'], 'an app sees only its own');
  t.equal(own.body.unread_count, 2);
  t.equal((await feedOf('?app_id=work-buddy', hugo.auth)).status, 403, "asking for another app's notifications");
});

t.test('read-all: marks unread read (optionally of one app), one event each, exact count after', async (t) => {
  const before = await rowCounts(db);
  const hugoOnly = await call('POST', '/users/feed_user/notifications/read-all', { headers: user.auth, json: { app_id: 'hugo-ai' } });
  t.equal(hugoOnly.status, 200);
  t.same(hugoOnly.body, { success: true, updated: 2, unread_count: 0 });
  t.equal((await rowCounts(db)).events - before.events, 2);
  t.equal((await feedOf()).body.unread_count, 1);
  const rest = await call('POST', '/users/feed_user/notifications/read-all', { headers: core.auth });
  t.match(rest.body, { updated: 1, unread_count: 0 }, 'a platform app, no body');
  t.equal((await feedOf()).body.unread_count, 0);
  const { rows } = await db.system.query(`select event_data from oriva.platform_events where event_type = 'read' and event_data->>'bulk' = 'true' order by seq`);
  t.equal(rows.length, 3);
  t.match(rows[2].event_data, { source: 'oriva-core', status: 'read', previous_status: 'unread' });
});

t.test('read-all: others are refused and nothing changes', async (t) => {
  const before = await rowCounts(db);
  t.equal((await call('POST', '/users/feed_user/notifications/read-all', { headers: stranger.auth })).status, 403);
  t.equal((await call('POST', '/users/feed_user/notifications/read-all', { headers: hugo.auth })).status, 403, 'third-party app');
  t.equal((await call('POST', '/users/feed_user/notifications/read-all', {})).status, 401);
  const bad = await call('POST', '/users/feed_user/notifications/read-all', { headers: user.auth, json: { app_id: 'x y' } });
  t.equal(bad.status, 400);
  t.match(bad.body, failure('validation_error'));
  t.same(await rowCounts(db), before);
});
