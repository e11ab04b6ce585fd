// Preferences (issue 14): the document's API (who may, validation with exact errors and nothing
// written, JSON Merge Patch, If-Match → 412), the rule applied in the create transaction (single and
// batch; every suppression reason; the feed, the count and the user's stream see nothing; the app's
// webhook gets the event that says why), and preferences.updated on the user's live connections.
import t from 'tap';
import { inTransaction } from '../../lib/db.js';
import { testDatabase } from '../helpers/db.js';
import { createTestApp, startTestServer, startTestWorker, userAuth } from '../helpers/stack.js';
import { Client, gateway } from '../gateway/helpers.js';
import { insertWebhook } from '../worker/helpers/fixtures.js';
import { startReceiver } from '../worker/helpers/receiver.js';
import { client, failure, notification, rowCounts } from './http.js';

const db = await testDatabase(t);
const call = client(await startTestServer(t, db, { INSTALL_REQUIRED: 'true' }));
const gw = await gateway(t, db.url);
const receiver = await startReceiver(t);
await startTestWorker(t, db, { WEBHOOK_ALLOWLIST: '127.0.0.1' }, { concurrency: 2 });

const core = await createTestApp(db, { id: 'oriva-core', name: 'Oriva Core', platform: true });
const buddy = await createTestApp(db, { id: 'work-buddy', name: 'Work Buddy' });
const hugo = await createTestApp(db, { id: 'hugo-ai', name: 'Hugo AI' });
const sam = await userAuth('sam');
const bob = await userAuth('bob');
for (const user of ['sam', 'bob']) {
  for (const app of [buddy, hugo]) await call('PUT', `/users/${user}/apps/${app.appId}`, { headers: core.auth });
}
await insertWebhook(db.system, buddy.appId, { url: receiver.url('/buddy'), events: ['notification.created'] });

const prefs = (user: string, auth: Record<string, string>, method = 'GET', json?: unknown, headers: Record<string, string> = {}) =>
  call(method, `/users/${user}/preferences`, { headers: { ...auth, ...headers }, json });
const stored = async () => (await db.system.query('select user_id, document, revision from oriva.user_preferences order by user_id')).rows;
const create = (app: { appId: string; auth: Record<string, string> }, body: Record<string, unknown>) =>
  call('POST', `/apps/${app.appId}/notifications`, { headers: app.auth, json: body });
const feed = (user: string, auth: Record<string, string>, query = '') => call('GET', `/users/${user}/notifications${query}`, { headers: auth });
const reset = async () => {
  await db.system.query('delete from oriva.user_preferences');
};

const DEFAULTS = {
  channels: { in_app: true, email: true },
  categories: { security: { in_app: true, email: true }, system: { in_app: true, email: true }, social: { in_app: true, email: true }, task: { in_app: true, email: true } },
  apps: {},
  quiet_hours: null,
  email: { address: null, delay_seconds: 300, bouncing_since: null },
  updated_at: null,
  revision: 0,
};

t.test('GET: the defaults until the user saves, revision 0 as the ETag; the user and platform apps only', async (t) => {
  const own = await prefs('sam', sam.auth);
  t.equal(own.status, 200);
  t.same(own.body, { success: true, preferences: DEFAULTS });
  t.equal(own.headers.get('etag'), '"0"');
  t.equal((await prefs('sam', core.auth)).status, 200, 'a platform app reads them');

  const app = await prefs('sam', buddy.auth);
  t.equal(app.status, 403);
  t.match(app.body, failure('forbidden'));
  t.equal(app.body.error.message, "An app cannot read or change a user's preferences: only the user or a platform app");
  const other = await prefs('sam', bob.auth);
  t.equal(other.status, 403);
  t.equal(other.body.error.message, "A user token reads and changes only its own user's preferences");
  for (const [who, auth] of [['an app', buddy.auth], ['another user', bob.auth]] as const) {
    const put = await prefs('sam', auth, 'PUT', { channels: { email: false } });
    t.equal(put.status, 403, `${who} cannot PUT`);
    const patch = await prefs('sam', auth, 'PATCH', { channels: { email: false } });
    t.equal(patch.status, 403, `${who} cannot PATCH`);
  }
  t.same(await stored(), [], 'nothing written');
});

t.test('PUT and PATCH: every validation error has its exact message, and nothing is written', async (t) => {
  await reset();
  const cases: [string, unknown, string][] = [
    ['unknown key', { colour: 'blue' }, 'body/colour is not a known field'],
    ['unknown category', { categories: { marketing: { email: false } } }, 'body/categories/marketing is not a known field'],
    ['unknown channel', { channels: { sms: false } }, 'body/channels/sms is not a known field'],
    ['unknown channel in a category', { categories: { social: { push: false } } }, 'body/categories/social/push is not a known field'],
    ['security in-app off', { categories: { security: { in_app: false } } }, 'body/categories/security/in_app cannot be switched off: security notifications always reach the feed'],
    ['a start that is not HH:MM', { quiet_hours: { start: '7pm', end: '07:00', timezone: 'Europe/Berlin' } }, 'body/quiet_hours/start must be a time of day as HH:MM (00:00 to 23:59)'],
    ['an end past 23:59', { quiet_hours: { start: '22:00', end: '24:00', timezone: 'Europe/Berlin' } }, 'body/quiet_hours/end must be a time of day as HH:MM (00:00 to 23:59)'],
    ['a time zone that is not IANA', { quiet_hours: { start: '22:00', end: '07:00', timezone: 'Mars/Olympus' } }, 'body/quiet_hours/timezone must be an IANA time zone name such as Europe/Berlin'],
    ['an offset instead of a zone', { quiet_hours: { start: '22:00', end: '07:00', timezone: '+01:00' } }, 'body/quiet_hours/timezone must be an IANA time zone name such as Europe/Berlin'],
    ['quiet hours without an end', { quiet_hours: { start: '22:00', timezone: 'Europe/Berlin' } }, 'body/quiet_hours/end is required'],
    ['an email address that is not one', { email: { address: 'sam at example' } }, 'body/email/address must be an email address'],
    ['a switch that is not a boolean', { channels: { email: 'no' } }, 'body/channels/email must be boolean'],
    ['an unknown app', { apps: { 'no-such-app': { muted: true } } }, 'body/apps/no-such-app is not a known app'],
    ['a negative delay', { email: { delay_seconds: -1 } }, 'body/email/delay_seconds must be >= 0'],
  ];
  const before = await rowCounts(db);
  for (const [name, body, message] of cases) {
    for (const method of ['PUT', 'PATCH']) {
      const res = await prefs('sam', sam.auth, method, body);
      t.equal(res.status, 400, `${method} ${name}: 400`);
      t.equal(res.body.error?.code, 'validation_error', `${method} ${name}: validation_error`);
      t.equal(res.body.error?.message, message, `${method} ${name}: the message`);
    }
  }
  t.same(await stored(), [], 'no preference document written');
  t.same(await rowCounts(db), before, 'nothing else either');
  const notJson = await call('PATCH', '/users/sam/preferences', { headers: { ...sam.auth, 'content-type': 'text/plain' }, raw: '{}' });
  t.equal(notJson.status, 415);
});

t.test('PUT stores the normalised document (time zone spelled canonically); PATCH merges (RFC 7386); ETag counts revisions', async (t) => {
  await reset();
  const put = await prefs('sam', sam.auth, 'PUT', { categories: { social: { email: false } }, quiet_hours: { start: '22:00', end: '07:00', timezone: 'europe/berlin' } });
  t.equal(put.status, 200);
  t.equal(put.headers.get('etag'), '"1"');
  t.match(put.body.preferences, { categories: { social: { in_app: true, email: false } }, quiet_hours: { start: '22:00', end: '07:00', timezone: 'Europe/Berlin' }, revision: 1, updated_at: String });

  const patch = await call('PATCH', '/users/sam/preferences', {
    headers: { ...sam.auth, 'content-type': 'application/merge-patch+json' },
    raw: JSON.stringify({ apps: { 'hugo-ai': { muted: true }, 'work-buddy': { types: { weekly_summary: { in_app: false } } } }, quiet_hours: null, email: { address: 'sam@example.com' } }),
  });
  t.equal(patch.status, 200);
  t.equal(patch.headers.get('etag'), '"2"');
  t.same(patch.body.preferences.apps, { 'hugo-ai': { muted: true, types: {} }, 'work-buddy': { muted: false, types: { weekly_summary: { in_app: false, email: true } } } });
  t.equal(patch.body.preferences.quiet_hours, null, 'null removes the quiet hours');
  t.same(patch.body.preferences.categories.social, { in_app: true, email: false }, 'what the patch leaves out stays');
  t.same(patch.body.preferences.email, { address: 'sam@example.com', delay_seconds: 300, bouncing_since: null });

  const forget = await prefs('sam', core.auth, 'PATCH', { apps: { 'hugo-ai': null } });
  t.same(Object.keys(forget.body.preferences.apps), ['work-buddy'], 'null forgets an app');
  const replaced = await prefs('sam', sam.auth, 'PUT', {});
  t.same({ ...replaced.body.preferences, updated_at: null, revision: 0 }, DEFAULTS, 'PUT {} is the defaults again');
  t.equal(replaced.body.preferences.revision, 4);
  t.same((await prefs('sam', sam.auth)).body, replaced.body, 'GET reads what was stored');
});

t.test('If-Match: a write based on a stale revision is a 412 and changes nothing; the current one goes through', async (t) => {
  await reset();
  const tabA = await prefs('sam', sam.auth);
  const tabB = await prefs('sam', sam.auth);
  const etag = tabA.headers.get('etag')!;
  t.equal(etag, '"0"');
  const first = await prefs('sam', sam.auth, 'PATCH', { channels: { email: false } }, { 'if-match': etag });
  t.equal(first.status, 200, 'the first tab wins');
  const second = await prefs('sam', sam.auth, 'PATCH', { channels: { in_app: false } }, { 'if-match': tabB.headers.get('etag')! });
  t.equal(second.status, 412);
  t.match(second.body, failure('precondition_failed'));
  t.equal(second.body.error.message, 'The preferences changed since the If-Match revision (another tab or device): read them again and retry');
  const putStale = await prefs('sam', sam.auth, 'PUT', { channels: { in_app: false } }, { 'if-match': '"0"' });
  t.equal(putStale.status, 412, 'a stale PUT too (revision 0: it was never saved — but it was)');
  const bad = await prefs('sam', sam.auth, 'PATCH', {}, { 'if-match': '*' });
  t.equal(bad.status, 412);
  t.equal(bad.body.error.message, 'If-Match must be one ETag of this resource, e.g. "3"');
  const rows = await stored();
  t.equal(rows.length, 1);
  t.same(rows[0].document.channels, { in_app: true, email: false }, 'only the first write landed');
  t.equal(Number(rows[0].revision), 1);

  // two writers racing with the same If-Match: exactly one wins
  const current = (await prefs('sam', sam.auth)).headers.get('etag')!;
  const race = await Promise.all([1, 2, 3, 4].map((i) => prefs('sam', sam.auth, 'PATCH', { email: { delay_seconds: i * 60 } }, { 'if-match': current })));
  t.same(race.map((r) => r.status).sort(), [200, 412, 412, 412], 'one of four concurrent writes with the same If-Match wins');
});

t.test('an app cannot read the preferences even with an unfiltered query (row-level security)', async (t) => {
  await reset();
  await prefs('sam', sam.auth, 'PUT', { apps: { 'hugo-ai': { muted: true } } });
  const api = db.pool('oriva_api');
  const visible = (actor: Parameters<typeof inTransaction>[1]) =>
    inTransaction(api, actor, async (c) => (await c.query('select user_id from oriva.user_preferences')).rows);
  t.same(await visible({ appId: buddy.appId }), [], 'an app sees no row');
  t.same(await visible({ userId: 'bob' }), [], 'another user neither');
  t.same(await visible({ userId: 'sam' }), [{ user_id: 'sam' }], 'the user sees theirs');
  t.same(await visible({ appId: core.appId, platform: true }), [{ user_id: 'sam' }], 'a platform app sees them');
  await t.rejects(
    inTransaction(api, { appId: buddy.appId }, (c) => c.query(`insert into oriva.user_preferences (user_id, document) values ('bob', '{}')`)),
    { code: '42501' }, 'nor write them');
});

t.test('applied at creation: each reason suppresses in_app — stored, 409 on a duplicate, no feed entry, no count, nothing on the stream; the webhook says why', async (t) => {
  const stream = await Client.open(t, gw, { headers: sam.auth });
  const documents: [string, Record<string, unknown>, Record<string, unknown>][] = [
    ['muted_app', { apps: { 'work-buddy': { muted: true } } }, {}],
    ['type_off', { apps: { 'work-buddy': { types: { weekly_summary: { in_app: false } } } } }, { notification_type: 'weekly_summary' }],
    ['category_off', { categories: { social: { in_app: false } } }, { category: 'social' }],
    ['channel_off', { channels: { in_app: false } }, { category: 'task' }],
  ];
  // muting an app switches off every channel: email too (issue 15); the other documents switch in_app only
  const why = (reason: string) => (reason === 'muted_app' ? [{ channel: 'in_app', reason }, { channel: 'email', reason }] : [{ channel: 'in_app', reason }]);
  for (const [reason, document, fields] of documents) {
    await prefs('sam', sam.auth, 'PUT', document);
    const unreadBefore = (await feed('sam', sam.auth)).body.unread_count;
    const external = `sup-${reason}`;
    const single = await create(buddy, notification({ external_id: external, user_id: 'sam', ...fields }));
    t.equal(single.status, 201, `${reason}: created`);
    t.same(single.body.suppressed, why(reason), `${reason}: the response says which channels and why`);
    const duplicate = await create(buddy, notification({ external_id: external, user_id: 'sam', ...fields }));
    t.equal(duplicate.status, 409, `${reason}: its external_id still dedupes`);

    const batch = await call('POST', '/apps/work-buddy/notifications/batch', {
      headers: buddy.auth,
      json: { notifications: [notification({ external_id: `${external}-b`, user_id: 'sam', ...fields }), notification({ external_id: `${external}-bob`, user_id: 'bob', ...fields })] },
    });
    t.match(batch.body.results, [
      { status: 201, suppressed: why(reason) },
      { status: 201, suppressed: [] },
    ], `${reason}: batch items judged on their own user's preferences`);

    const { rows } = await db.system.query(
      `select n.external_id, s.id as state from oriva.platform_notifications n left join oriva.notification_state s on s.notification_id = n.id
        where n.external_id in ($1, $2) order by n.external_id`, [external, `${external}-b`]);
    t.same(rows.map((r) => [r.external_id, r.state]), [[external, null], [`${external}-b`, null]], `${reason}: stored, without a state row`);
    const after = await feed('sam', sam.auth);
    t.notOk(after.body.notifications.some((n: { external_id: string }) => n.external_id.startsWith(external)), `${reason}: not in the feed`);
    t.equal(after.body.unread_count, unreadBefore, `${reason}: the count did not move`);
  }
  // what the app's webhook received: one notification.created per create, each saying why
  const created = 4 * 3; // per reason: single, sam's batch item, bob's batch item
  const deliveries = (await receiver.waitFor('/buddy', created)).map((r) => JSON.parse(r.body) as { data: { event_data: { notification: { external_id: string; user_id: string }; suppressed: unknown[] } } });
  for (const [reason] of documents) {
    const mine = deliveries.filter((d) => d.data.event_data.notification.external_id.startsWith(`sup-${reason}`) && d.data.event_data.notification.user_id === 'sam');
    t.equal(mine.length, 2, `${reason}: the webhook got both of sam's`);
    for (const d of mine) t.same(d.data.event_data.suppressed, why(reason), `${reason}: the event says why`);
  }

  // The stream: a notification that is delivered arrives; none of the suppressed ones did before it.
  await reset();
  const delivered = await create(buddy, notification({ external_id: 'delivered-after', user_id: 'sam' }));
  t.same(delivered.body.suppressed, []);
  const arrived = await stream.next((m) => m.type === 'event' && (m.event_data as { notification?: { external_id: string } }).notification?.external_id === 'delivered-after');
  t.ok(arrived, 'a delivered notification reaches the stream');
  const seen = stream.events().map((m) => (m.event_data as { notification?: { external_id: string } }).notification?.external_id).filter(Boolean);
  t.same(seen, ['delivered-after'], 'no suppressed notification reached the user\'s stream');
  const resumed = await Client.open(t, gw, { headers: sam.auth, query: { after: 0 } });
  const replayed = resumed.events().map((m) => (m.event_data as { notification?: { external_id: string } }).notification?.external_id).filter(Boolean);
  t.same(replayed, ['delivered-after'], 'nor does a resume replay one');
  const appStream = await Client.open(t, gw, { query: { auth: buddy.apiKey, after: 0 } });
  t.ok(appStream.events().some((m) => (m.event_data as { notification?: { external_id: string } }).notification?.external_id === 'sup-muted_app'),
    "the owner app's own connection does get it");
});

t.test('security: a category or channel switch does not hold it back from the feed; a muted app still is', async (t) => {
  await prefs('sam', sam.auth, 'PUT', { channels: { in_app: false }, categories: { system: { in_app: false } } });
  const security = await create(hugo, notification({ external_id: 'sec-1', user_id: 'sam', category: 'security' }));
  t.same(security.body.suppressed, [], 'security passes channel_off');
  await prefs('sam', sam.auth, 'PUT', { apps: { 'hugo-ai': { muted: true } } });
  const muted = await create(hugo, notification({ external_id: 'sec-2', user_id: 'sam', category: 'security' }));
  t.same(muted.body.suppressed, [{ channel: 'in_app', reason: 'muted_app' }, { channel: 'email', reason: 'muted_app' }], 'an app cannot escape a mute by calling its notifications security');
  await reset();
});

t.test('decisions are not retroactive: muting hides none of what is already in the feed, only what comes after', async (t) => {
  await reset();
  await create(hugo, notification({ external_id: 'before-mute', user_id: 'sam' }));
  await prefs('sam', sam.auth, 'PATCH', { apps: { 'hugo-ai': { muted: true } } });
  await create(hugo, notification({ external_id: 'after-mute', user_id: 'sam' }));
  const ids = (await feed('sam', sam.auth, '?app_id=hugo-ai')).body.notifications.map((n: { external_id: string }) => n.external_id);
  t.ok(ids.includes('before-mute'));
  t.notOk(ids.includes('after-mute'));
  await reset();
});

t.test('the feed filters by category and notification_type, counts included', async (t) => {
  await reset();
  await create(buddy, notification({ external_id: 'cat-social', user_id: 'bob', category: 'social', notification_type: 'friend_request' }));
  await create(buddy, notification({ external_id: 'cat-task', user_id: 'bob', category: 'task', notification_type: 'due_soon' }));
  const social = await feed('bob', bob.auth, '?category=social');
  t.equal(social.status, 200);
  t.ok(social.body.notifications.every((n: { category: string }) => n.category === 'social'));
  t.ok(social.body.notifications.some((n: { external_id: string }) => n.external_id === 'cat-social'));
  t.equal(social.body.unread_count, social.body.notifications.length);
  const type = await feed('bob', bob.auth, '?notification_type=due_soon');
  t.same(type.body.notifications.map((n: { external_id: string }) => n.external_id), ['cat-task']);
  t.equal(type.body.pagination.total, 1);
  const bad = await feed('bob', bob.auth, '?category=marketing');
  t.equal(bad.status, 400);
  t.equal(bad.body.error.message, 'query/category must be one of security, system, social, task');
  const badCreate = await create(buddy, notification({ user_id: 'bob', category: 'marketing' }));
  t.equal(badCreate.status, 400);
  t.equal(badCreate.body.error.message, 'body/category must be one of security, system, social, task');
});

t.test('preferences.updated reaches every live connection of the user (not other users, not apps) after each change', async (t) => {
  const one = await Client.open(t, gw, { headers: sam.auth });
  const two = await Client.open(t, gw, { headers: sam.auth });
  const other = await Client.open(t, gw, { headers: bob.auth });
  const app = await Client.open(t, gw, { query: { auth: core.apiKey } });
  const res = await prefs('sam', core.auth, 'PATCH', { email: { delay_seconds: 120 } });
  const revision = res.body.preferences.revision;
  for (const conn of [one, two]) {
    const frame = await conn.next((m) => m.type === 'preferences.updated' && m.revision === revision);
    t.same(frame, { type: 'preferences.updated', revision, updated_at: res.body.preferences.updated_at });
  }
  await new Promise((r) => setTimeout(r, 200));
  t.notOk(other.messages.some((m) => m.type === 'preferences.updated'), 'not to another user');
  t.notOk(app.messages.some((m) => m.type === 'preferences.updated'), 'not to an app');
});
