// Audiences (issue 16): topics (CRUD, bad input with exact errors and nothing written, cursor) and
// broadcasts — to a topic and to every user — reaching the feeds, counts and streams of exactly the
// right users (a stranger and a user who muted the app get nothing), each recipient's own state,
// membership at the time it was sent, retraction live, one broadcast.sent webhook, the rate limit,
// Idempotency-Key, resume, and row-level security.
import t from 'tap';
import { inTransaction } from '../../lib/db.js';
import { archiveOldRows } from '../../worker/tasks/old_rows_archive.js';
import { testDatabase } from '../helpers/db.js';
import { createTestApp, startTestServer, startTestWorker, userAuth } from '../helpers/stack.js';
import { Client, gateway, type Message } from '../gateway/helpers.js';
import { insertWebhook } from '../worker/helpers/fixtures.js';
import { startReceiver } from '../worker/helpers/receiver.js';
import { client, failure } from './http.js';

const db = await testDatabase(t);
const call = client(await startTestServer(t, db, { INSTALL_REQUIRED: 'true', RATE_LIMIT_BROADCASTS: '20' }));
const gw = await gateway(t, db.url);
const receiver = await startReceiver(t);
await startTestWorker(t, db, { WEBHOOK_ALLOWLIST: '127.0.0.1' }, { concurrency: 2 });

const core = await createTestApp(db, { id: 'oriva-core', name: 'Oriva Core', platform: true });
const buddy = await createTestApp(db, { id: 'work-buddy', name: 'Work Buddy' });
const hugo = await createTestApp(db, { id: 'hugo-ai', name: 'Hugo AI' });
const USERS = ['ann', 'ben', 'cat', 'dan', 'eve', 'fay'] as const;
const auth = Object.fromEntries(await Promise.all(USERS.map(async (u) => [u, (await userAuth(u)).auth] as const))) as Record<(typeof USERS)[number], Record<string, string>>;
for (const user of USERS) await call('PUT', `/users/${user}/apps/${buddy.appId}`, { headers: core.auth });
await insertWebhook(db.system, buddy.appId, { url: receiver.url('/buddy'), events: ['broadcast.*'] });
// eve muted Work Buddy: she is in the topic, but nothing of the app reaches her feed
await call('PUT', '/users/eve/preferences', { headers: auth.eve, json: { apps: { 'work-buddy': { muted: true } } } });

const topicPath = (topic: string, app = buddy.appId) => `/apps/${app}/topics/${topic}/subscribers`;
const counts = async () => (await db.system.query(`select
    (select count(*)::int from oriva.topic_subscriptions) as subscriptions,
    (select count(*)::int from oriva.broadcasts) as broadcasts,
    (select count(*)::int from oriva.platform_notifications) as notifications,
    (select count(*)::int from oriva.platform_events) as events`)).rows[0] as { subscriptions: number; broadcasts: number; notifications: number; events: number };
const feed = async (user: (typeof USERS)[number]) => {
  const r = await call('GET', `/users/${user}/notifications`, { headers: auth[user] });
  return { ids: (r.body.notifications as { id: string }[]).map((n) => n.id), unread: r.body.unread_count as number, items: r.body.notifications as Record<string, unknown>[] };
};
const broadcast = (app: { appId: string; auth: Record<string, string> }, audience: unknown, extra: Record<string, unknown> = {}, headers: Record<string, string> = {}) =>
  call('POST', `/apps/${app.appId}/broadcasts`, {
    headers: { ...app.auth, ...headers },
    json: { external_id: `b_${Math.random().toString(36).slice(2)}`, notification_type: 'release', title: 'Version 2', body: 'What is new', audience, ...extra },
  });

t.test('topics: bad input gets its exact error and writes nothing', async (t) => {
  const before = await counts();
  const cases: [string, string, Record<string, string>, unknown, number, string, string][] = [
    ['a bad topic name', topicPath('Beta!'), buddy.auth, { user_ids: ['ann'] }, 400, 'validation_error', 'params/topic must match pattern "^[a-z0-9][a-z0-9_.:-]{0,63}$"'],
    ['1,001 user ids', topicPath('beta'), buddy.auth, { user_ids: Array.from({ length: 1001 }, (_, i) => `u${i}`) }, 400, 'validation_error', 'body/user_ids must NOT have more than 1000 items'],
    ['no user ids', topicPath('beta'), buddy.auth, { user_ids: [] }, 400, 'validation_error', 'body/user_ids must NOT have fewer than 1 items'],
    ['a bad user id', topicPath('beta'), buddy.auth, { user_ids: ['a b'] }, 400, 'validation_error', 'body/user_ids/0 must match pattern "^[A-Za-z0-9_.:@-]{1,128}$"'],
    ['an unknown field', topicPath('beta'), buddy.auth, { user_ids: ['ann'], extra: 1 }, 400, 'validation_error', 'body/extra is not a known field'],
    ["another app's topic", topicPath('beta'), hugo.auth, { user_ids: ['ann'] }, 403, 'forbidden', 'An API key acts only for its own app'],
    ['a user token', topicPath('beta'), auth.ann, { user_ids: ['ann'] }, 403, 'forbidden', 'This endpoint is for apps (API key), not user tokens'],
    ['a user who has not installed the app', topicPath('beta'), buddy.auth, { user_ids: ['ann', 'zed', 'yul'] }, 403, 'not_installed', '2 of these users have not installed the app: nothing was added'],
  ];
  for (const [what, path, headers, json, status, code, message] of cases) {
    const r = await call('PUT', path, { headers, json });
    t.equal(r.status, status, what);
    t.match(r.body, failure(code), what);
    t.equal(r.body.error.message, message, what);
  }
  const refused = await call('PUT', topicPath('beta'), { headers: buddy.auth, json: { user_ids: ['ann', 'zed', 'yul'] } });
  t.same(refused.body.error.details, { user_ids: ['yul', 'zed'] }, 'the refusal names the users');
  const other = await call('GET', topicPath('beta'), { headers: hugo.auth });
  t.equal(other.status, 403, "another app cannot list the app's topic");
  const badCursor = await call('GET', `${topicPath('beta')}?cursor=nonsense`, { headers: buddy.auth });
  t.equal(badCursor.status, 400);
  t.equal(badCursor.body.error.message, 'query/cursor is not a cursor this endpoint issued');
  t.same(await counts(), before, 'nothing written');
});

t.test('topics: add (idempotent), list with a cursor, remove (idempotent)', async (t) => {
  const add = await call('PUT', topicPath('beta'), { headers: buddy.auth, json: { user_ids: ['ann', 'ben', 'cat', 'eve'] } });
  t.equal(add.status, 200);
  t.same(add.body, { success: true, added: 4 });
  const again = await call('PUT', topicPath('beta'), { headers: buddy.auth, json: { user_ids: ['ann', 'ann', 'ben'] } });
  t.same(again.body, { success: true, added: 0 }, 'members stay as they are');
  const first = await call('GET', `${topicPath('beta')}?limit=3`, { headers: buddy.auth });
  t.same(first.body.subscribers.map((s: { user_id: string }) => s.user_id), ['ann', 'ben', 'cat']);
  t.type(first.body.next_cursor, 'string');
  const second = await call('GET', `${topicPath('beta')}?limit=3&cursor=${first.body.next_cursor}`, { headers: buddy.auth });
  t.same(second.body.subscribers.map((s: { user_id: string }) => s.user_id), ['eve']);
  t.equal(second.body.next_cursor, null);
  const none = await call('DELETE', topicPath('beta'), { headers: buddy.auth, json: { user_ids: ['dan'] } });
  t.same(none.body, { success: true, removed: 0 }, 'removing a non-member is a no-op');
  const empty = await call('GET', topicPath('nobody'), { headers: buddy.auth });
  t.same(empty.body, { success: true, subscribers: [], next_cursor: null }, 'an unknown topic has no members');
});

let sent: { id: string; seq: number };
const streams: Partial<Record<(typeof USERS)[number], Client>> = {};
const root = t;

t.test('a broadcast to a topic reaches the feeds, counts and streams of its members only; one webhook event', async (t) => {
  const before = await counts();
  // the streams stay open for the tests after this one
  for (const user of ['ann', 'ben', 'dan', 'eve'] as const) streams[user] = await Client.open(root, gw, { headers: auth[user] });
  const r = await broadcast(buddy, { topic: 'beta' }, { priority: 'high', category: 'task' });
  t.equal(r.status, 202);
  t.match(r.body, { success: true, broadcast_id: String, sent_at: String });
  const after = await counts();
  t.same([after.notifications - before.notifications, after.broadcasts - before.broadcasts, after.events - before.events], [1, 1, 1],
    'one notification row, one broadcast row, one event — nothing per recipient');
  const { rows: [event] } = await db.system.query<{ seq: string }>("select seq from oriva.platform_events where entity_id = $1 and event_type = 'sent'", [r.body.broadcast_id]);
  sent = { id: r.body.broadcast_id, seq: Number(event!.seq) };

  for (const user of ['ann', 'ben', 'cat'] as const) {
    const f = await feed(user);
    t.same(f.ids, [sent.id], `${user} has it in their feed`);
    t.equal(f.unread, 1, `${user}'s unread count includes it`);
    t.match(f.items[0], { user_id: user, status: 'unread', app_id: 'work-buddy', app_name: 'Work Buddy', priority: 'high', category: 'task', title: 'Version 2' });
  }
  t.same((await feed('dan')).ids, [], 'dan (not in the topic) has nothing');
  t.same((await feed('eve')).ids, [], 'eve (muted the app) has nothing');
  t.equal((await feed('eve')).unread, 0);

  for (const user of ['ann', 'ben'] as const) {
    const got = await streams[user]!.next((m) => m.type === 'event' && m.event_type === 'sent');
    t.match(got, { event_category: 'broadcast', event_type: 'sent', user_id: null, app_id: 'work-buddy', seq: sent.seq, event_data: { broadcast: { id: sent.id, audience: { topic: 'beta' } }, notification: { id: sent.id, title: 'Version 2' } } }, `${user}'s stream`);
    await streams[user]!.next((m) => m.type === 'counts' && m.unread === 1);
  }
  // A marker after the broadcast: once dan and eve have it, they would have had the broadcast before it.
  for (const user of ['dan', 'eve'] as const) {
    await call('POST', `/apps/${core.appId}/notifications`, { headers: core.auth, json: { external_id: `marker_${user}`, user_id: user, notification_type: 'marker', title: 'm', body: 'm', category: 'security' } });
    await streams[user]!.next((m) => m.type === 'event' && (m.event_data as { notification?: { external_id: string } }).notification?.external_id === `marker_${user}`);
    t.notOk(streams[user]!.events().some((m) => m.event_category === 'broadcast'), `${user}'s stream got no broadcast`);
  }
  const hooks = await receiver.waitFor('/buddy', 1);
  t.equal(hooks.length, 1);
  const body = JSON.parse(hooks[0]!.body) as { type: string; data: { user_id: unknown; event_data: { broadcast: { id: string } } } };
  t.equal(body.type, 'broadcast.sent', 'the webhook gets one broadcast.sent');
  t.equal(body.data.user_id, null);
  t.equal(body.data.event_data.broadcast.id, sent.id);
});

t.test('each recipient has their own state: dismiss once, for them', async (t) => {
  const appTries = await call('PATCH', `/notifications/${sent.id}`, { headers: buddy.auth, json: { status: 'read' } });
  t.equal(appTries.status, 403);
  t.equal(appTries.body.error.message, "This is a broadcast: each recipient's state is their own (change it with their user token; it must have reached them)");
  const stranger = await call('PATCH', `/notifications/${sent.id}`, { headers: auth.dan, json: { status: 'read' } });
  t.equal(stranger.status, 403, 'a user it did not reach cannot change it');
  t.equal((await db.system.query('select count(*)::int as n from oriva.notification_state where notification_id = $1', [sent.id])).rows[0].n, 0, 'no state row written');

  const dismissed = await call('PATCH', `/notifications/${sent.id}`, { headers: auth.ann, json: { status: 'dismissed', dismissed_from: 'oriva_core' } });
  t.equal(dismissed.status, 200);
  t.match(dismissed.body, { notification_id: sent.id, status: 'dismissed', previous_status: 'unread', changed: true });
  t.same((await feed('ann')).ids, [], 'gone from ann\'s feed');
  t.equal((await feed('ann')).unread, 0);
  t.same((await feed('ben')).ids, [sent.id], 'ben still has it');
  t.equal((await feed('ben')).unread, 1, 'unread for ben');
  await streams.ann!.next((m) => m.type === 'event' && m.event_type === 'dismissed' && m.user_id === 'ann');
  await streams.ann!.next((m) => m.type === 'counts' && m.unread === 0);
  const hooks = await receiver.waitFor('/buddy', 1);
  t.equal(hooks.length, 1, 'the webhook (broadcast.* only) heard nothing more');

  const readAll = await call('POST', '/users/cat/notifications/read-all', { headers: auth.cat, json: {} });
  t.same(readAll.body, { success: true, updated: 1, unread_count: 0 }, 'read-all marks the broadcast read for cat');
  t.match((await feed('cat')).items[0], { id: sent.id, status: 'read' });
  t.equal((await feed('ben')).unread, 1, 'and only for cat');
});

t.test('membership when it was sent: added later does not get it, removed later keeps it', async (t) => {
  await call('PUT', topicPath('beta'), { headers: buddy.auth, json: { user_ids: ['fay'] } });
  t.same((await feed('fay')).ids, [], 'fay, added after, does not have it');
  await call('DELETE', topicPath('beta'), { headers: buddy.auth, json: { user_ids: ['ben'] } });
  t.same((await feed('ben')).ids, [sent.id], 'ben, removed after, keeps it');
});

t.test('GET one with its figures, and the list', async (t) => {
  const one = await call('GET', `/apps/${buddy.appId}/broadcasts/${sent.id}`, { headers: buddy.auth });
  t.equal(one.status, 200);
  t.match(one.body.broadcast, { id: sent.id, audience: { topic: 'beta' }, title: 'Version 2', priority: 'high' });
  t.same(one.body.broadcast.figures, { recipients: 4, suppressed: 1, delivered: 3, read: 1, clicked: 0, dismissed: 1 },
    'ann, ben, cat and eve were members; eve muted the app; cat read it; ann dismissed it');
  const other = await call('GET', `/apps/${buddy.appId}/broadcasts/${sent.id}`, { headers: hugo.auth });
  t.equal(other.status, 403);
  const missing = await call('GET', `/apps/${hugo.appId}/broadcasts/${sent.id}`, { headers: hugo.auth });
  t.equal(missing.status, 404, "another app's broadcast is not found under its own path");
  t.equal(missing.body.error.message, 'Broadcast not found');
  const list = await call('GET', `/apps/${buddy.appId}/broadcasts`, { headers: buddy.auth });
  t.same(list.body.broadcasts.map((b: { id: string }) => b.id), [sent.id]);
});

t.test('to every user: platform apps only; every known user gets it, an unknown one does not', async (t) => {
  const before = await counts();
  const refused = await broadcast(buddy, { all: true });
  t.equal(refused.status, 403);
  t.equal(refused.body.error.message, 'Only a platform app may broadcast to every user (audience.all)');
  const bad = await broadcast(buddy, { topic: 'beta', all: true });
  t.equal(bad.status, 400, 'an audience with both is a 400');
  const none = await broadcast(buddy, {});
  t.equal(none.status, 400, 'an empty audience is a 400');
  const noAudience = await call('POST', `/apps/${buddy.appId}/broadcasts`, { headers: buddy.auth, json: { external_id: 'x', notification_type: 't', title: 'a', body: 'b' } });
  t.equal(noAudience.status, 400);
  t.equal(noAudience.body.error.message, 'body/audience is required');
  const withUser = await call('POST', `/apps/${buddy.appId}/broadcasts`, { headers: buddy.auth, json: { external_id: 'x', notification_type: 't', title: 'a', body: 'b', user_id: 'ann', audience: { topic: 'beta' } } });
  t.equal(withUser.status, 400);
  t.equal(withUser.body.error.message, 'body/user_id is not a known field');
  t.same(await counts(), before, 'nothing written');

  const zed = await userAuth('zed'); // never known to the system
  const zedStream = await Client.open(t, gw, { headers: zed.auth });
  const r = await broadcast(core, { all: true }, { title: 'Maintenance tonight', category: 'system' });
  t.equal(r.status, 202);
  for (const user of ['ann', 'ben', 'dan'] as const) {
    t.ok((await feed(user)).ids.includes(r.body.broadcast_id), `${user} has it`);
    await streams[user]!.next((m) => m.type === 'event' && (m.event_data as { broadcast?: { id: string } }).broadcast?.id === r.body.broadcast_id);
  }
  t.ok((await feed('eve')).ids.includes(r.body.broadcast_id), 'eve muted Work Buddy, not Oriva Core');
  const zedFeed = await call('GET', '/users/zed/notifications', { headers: zed.auth });
  t.same(zedFeed.body.notifications, [], 'zed, unknown when it was sent, does not have it');
  await new Promise((resolve) => setTimeout(resolve, 300));
  t.notOk(zedStream.events().some((m) => m.event_category === 'broadcast'), "nor on zed's stream");
  const figures = await call('GET', `/apps/${core.appId}/broadcasts/${r.body.broadcast_id}`, { headers: core.auth });
  t.equal(figures.body.broadcast.figures.recipients, USERS.length, 'every known user is a recipient');
});

t.test('resume: a user reconnecting after an older seq gets the broadcast in the replay', async (t) => {
  const late = await Client.open(t, gw, { headers: auth.ben, query: { after: sent.seq - 1 } });
  const replayed = await late.next((m) => m.type === 'event' && m.seq === sent.seq);
  t.match(replayed, { event_category: 'broadcast', event_type: 'sent' });
  const dan = await Client.open(t, gw, { headers: auth.dan, query: { after: sent.seq - 1 } });
  t.notOk(dan.events().some((m) => m.seq === sent.seq), "not in dan's replay");
});

t.test('retract: gone from every feed, counts corrected, pushed live; then 404', async (t) => {
  const other = await call('DELETE', `/apps/${buddy.appId}/broadcasts/${sent.id}`, { headers: hugo.auth });
  t.equal(other.status, 403);
  const r = await call('DELETE', `/apps/${buddy.appId}/broadcasts/${sent.id}`, { headers: buddy.auth });
  t.equal(r.status, 204);
  const got: Message = await streams.ben!.next((m) => m.type === 'event' && m.event_type === 'retracted');
  t.match(got, { event_category: 'broadcast', user_id: null, event_data: { notification_id: sent.id } });
  for (const user of ['ann', 'ben', 'cat'] as const) t.notOk((await feed(user)).ids.includes(sent.id), `gone from ${user}'s feed`);
  const benUnread = (await feed('ben')).unread;
  await streams.ben!.next((m) => m.type === 'counts' && m.unread === benUnread);
  t.equal((await db.system.query('select count(*)::int as n from oriva.notification_state where notification_id = $1', [sent.id])).rows[0].n, 0, 'the recipients\' state rows went with it');
  const again = await call('DELETE', `/apps/${buddy.appId}/broadcasts/${sent.id}`, { headers: buddy.auth });
  t.equal(again.status, 404);
});

t.test('Idempotency-Key and a duplicate external_id', async (t) => {
  const key = { 'Idempotency-Key': 'bc-1' };
  const body = { external_id: 'idem_1', notification_type: 'release', title: 'Once', body: 'Only once', audience: { topic: 'beta' } };
  const first = await call('POST', `/apps/${buddy.appId}/broadcasts`, { headers: { ...buddy.auth, ...key }, json: body });
  const second = await call('POST', `/apps/${buddy.appId}/broadcasts`, { headers: { ...buddy.auth, ...key }, json: body });
  t.equal(first.status, 202);
  t.same(second.body, first.body, 'the stored reply');
  t.equal(second.headers.get('idempotent-replayed'), 'true');
  const dup = await call('POST', `/apps/${buddy.appId}/broadcasts`, { headers: buddy.auth, json: body });
  t.equal(dup.status, 409);
  t.equal((await db.system.query("select count(*)::int as n from oriva.platform_notifications where external_id = 'idem_1'")).rows[0].n, 1);
});

t.test('row-level security: an app cannot read another app\'s topics or broadcasts with an unfiltered query', async (t) => {
  const api = db.pool('oriva_api');
  const visible = (actor: Parameters<typeof inTransaction>[1], table: string) =>
    inTransaction(api, actor, async (c) => (await c.query(`select app_id from oriva.${table}`)).rows as { app_id: string }[]);
  t.same(await visible({ appId: hugo.appId }, 'topic_subscriptions'), [], 'hugo sees no topic rows');
  t.same(await visible({ appId: hugo.appId }, 'broadcasts'), [], 'nor broadcasts');
  t.ok((await visible({ appId: buddy.appId }, 'topic_subscriptions')).every((r) => r.app_id === 'work-buddy'), 'buddy sees only its own');
  t.ok((await visible({ appId: buddy.appId }, 'topic_subscriptions')).length > 0);
  const notes = await inTransaction(api, { appId: hugo.appId }, async (c) => (await c.query('select id from oriva.platform_notifications where user_id is null')).rows);
  t.same(notes, [], "nor another app's broadcast notifications");
  const dansView = await inTransaction(api, { userId: 'dan' }, async (c) => (await c.query("select title from oriva.platform_notifications where user_id is null and app_id = 'work-buddy'")).rows);
  t.same(dansView, [], 'a user sees only the broadcasts that reach them');
  await t.rejects(
    inTransaction(api, { appId: hugo.appId }, (c) => c.query(`insert into oriva.topic_subscriptions (app_id, topic, user_id) values ('work-buddy', 'beta', 'dan')`)),
    { code: '42501' }, 'nor write them');
});

t.test('expiry: an expired broadcast leaves every feed and count, live', async (t) => {
  const r = await broadcast(buddy, { topic: 'beta' }, { title: 'Short-lived', expires_at: new Date(Date.now() + 1500).toISOString() });
  t.equal(r.status, 202);
  t.ok((await feed('cat')).ids.includes(r.body.broadcast_id), 'in the feed until it expires');
  const unreadBefore = (await feed('ann')).unread;
  const expired = await streams.ann!.next((m) => m.type === 'event' && m.event_category === 'broadcast' && m.event_type === 'expired', 10_000);
  t.match(expired, { user_id: null, event_data: { notification_id: r.body.broadcast_id, broadcast: { audience: { topic: 'beta' } } } });
  t.notOk((await feed('cat')).ids.includes(r.body.broadcast_id), 'gone from the feed');
  t.equal((await feed('ann')).unread, unreadBefore - 1, 'and from the count');
  await streams.ann!.next((m) => m.type === 'counts' && m.unread === unreadBefore - 1);
  const again = await db.system.query("select count(*)::int as n from oriva.platform_events where event_type = 'expired' and entity_id = $1", [r.body.broadcast_id]);
  t.equal(again.rows[0].n, 1, 'one broadcast.expired');
});

t.test('archival moves a broadcast like any notification, without a state (each recipient had their own)', async (t) => {
  const later = new Date(Date.now() + 100 * 86_400_000);
  await archiveOldRows(db.system, 90, 100, later);
  const { rows } = await db.system.query('select user_id, status from oriva.platform_notifications_archive where id = (select min(id::text)::uuid from oriva.platform_notifications_archive where user_id is null)');
  t.same(rows, [{ user_id: null, status: null }]);
  t.equal((await db.system.query('select count(*)::int as n from oriva.broadcasts')).rows[0].n, 0, 'no broadcast left live');
  t.same((await feed('ben')).ids, [], 'nor in any feed');
});

t.test('the broadcast rate limit: its own, lower budget', async (t) => {
  const statuses: number[] = [];
  for (let i = 0; i < 20; i++) statuses.push((await broadcast(buddy, { topic: 'beta' })).status);
  t.ok(statuses.includes(429), 'RATE_LIMIT_BROADCASTS=20 per hour: the budget runs out');
  const limited = await broadcast(buddy, { topic: 'beta' });
  t.equal(limited.status, 429);
  t.match(limited.body, failure('rate_limited'));
  t.equal(limited.body.error.message, 'Rate limit exceeded (20 broadcasts requests per 60 min)');
  const single = await call('POST', `/apps/${buddy.appId}/notifications`, { headers: buddy.auth, json: { external_id: 'still-ok', user_id: 'ann', notification_type: 't', title: 'a', body: 'b' } });
  t.equal(single.status, 201, 'single creates have their own limit');
});
