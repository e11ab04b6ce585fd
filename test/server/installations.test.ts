// Installations (issue 13): an app reaches only the users who installed it. INSTALL_REQUIRED is on
// here, as in production.
import t from 'tap';
import { inTransaction } from '../../lib/db.js';
import { testDatabase } from '../helpers/db.js';
import { createTestApp, startTestServer, userAuth } from '../helpers/stack.js';
import { client, failure, notification, rowCounts } from './http.js';

const db = await testDatabase(t);
const call = client(await startTestServer(t, db, { INSTALL_REQUIRED: 'true' }));
const buddy = await createTestApp(db, { id: 'work-buddy', name: 'Work Buddy', iconUrl: 'https://workbuddy.com/icon.png' });
const hugo = await createTestApp(db, { id: 'hugo-ai', name: 'Hugo AI' });
const core = await createTestApp(db, { id: 'oriva-core', name: 'Oriva Core', platform: true });
const alice = await userAuth('alice');
const bob = await userAuth('bob');

const create = (app: { appId: string; auth: Record<string, string> }, body: Record<string, unknown>) =>
  call('POST', `/apps/${app.appId}/notifications`, { headers: app.auth, json: body });
const installations = async () => (await db.system.query('select user_id, app_id from oriva.app_installations order by user_id, app_id')).rows;
const appEvents = async (type: string) =>
  (await db.system.query(`select app_id, user_id, event_data from oriva.platform_events where event_category = 'app' and event_type = $1 order by seq`, [type])).rows;

t.test('not installed: a create, a batch item and an event for that user are refused with 403 not_installed, and nothing is written', async (t) => {
  const before = await rowCounts(db);
  const single = await create(buddy, notification({ external_id: 'n-1', user_id: 'alice' }));
  t.equal(single.status, 403);
  t.match(single.body, failure('not_installed'));
  t.equal(single.body.error.message, 'User alice has not installed this app');
  t.same(single.body.error.details, { user_id: 'alice' });

  const event = await call('POST', '/apps/work-buddy/events', {
    headers: buddy.auth, json: { event_category: 'session', event_type: 'started', entity_type: 'session', entity_id: 's1', user_id: 'alice' },
  });
  t.equal(event.status, 403);
  t.match(event.body, failure('not_installed'));
  t.same(await rowCounts(db), before, 'no notification, state, event or idempotency row');
});

t.test('PUT installs (201, then 200: idempotent), records app.installed owned by the app, and lets the app through', async (t) => {
  const first = await call('PUT', '/users/alice/apps/work-buddy', { headers: alice.auth });
  t.equal(first.status, 201);
  t.match(first.body, { success: true, installation: { app_id: 'work-buddy', app_name: 'Work Buddy', app_icon: 'https://workbuddy.com/icon.png', installed_at: String } });
  const again = await call('PUT', '/users/alice/apps/work-buddy', { headers: alice.auth });
  t.equal(again.status, 200);
  t.same(again.body, first.body, 'the same installation, installed_at unchanged');
  const events = await appEvents('installed');
  t.equal(events.length, 1, 'one app.installed, not one per call');
  t.match(events[0], { app_id: 'work-buddy', user_id: 'alice', event_data: { source: 'oriva_core', app_id: 'work-buddy', user_id: 'alice' } });

  const created = await create(buddy, notification({ external_id: 'n-2', user_id: 'alice' }));
  t.equal(created.status, 201, 'now the app reaches alice');
  const stillRefused = await create(buddy, notification({ external_id: 'n-3', user_id: 'bob' }));
  t.equal(stillRefused.status, 403, 'but not bob, who did not install it');
});

t.test('batch: each item is judged on its own user; refused items get 403 not_installed and are not written', async (t) => {
  const res = await call('POST', '/apps/work-buddy/notifications/batch', {
    headers: buddy.auth,
    json: { notifications: [notification({ external_id: 'b-1', user_id: 'alice' }), notification({ external_id: 'b-2', user_id: 'bob' }), notification({ external_id: 'b-3', user_id: 'alice' })] },
  });
  t.equal(res.status, 200);
  t.match(res.body, { success: false, created: 2, failed: 1 });
  t.match(res.body.results, [
    { index: 0, success: true, status: 201, external_id: 'b-1' },
    { index: 1, success: false, status: 403, external_id: 'b-2', error: { code: 'not_installed', message: 'User bob has not installed this app' } },
    { index: 2, success: true, status: 201, external_id: 'b-3' },
  ]);
  const { rows } = await db.system.query(`select external_id from oriva.platform_notifications where external_id like 'b-%' order by external_id`);
  t.same(rows.map((r) => r.external_id), ['b-1', 'b-3']);
});

t.test('a platform app reaches every user without an installation', async (t) => {
  const res = await create(core, notification({ external_id: 'core-1', user_id: 'bob' }));
  t.equal(res.status, 201);
});

t.test('who may install: the user or a platform app; not another user, not an app (for itself or another); unknown app → 404', async (t) => {
  const before = await installations();
  const otherUser = await call('PUT', '/users/alice/apps/hugo-ai', { headers: bob.auth });
  t.equal(otherUser.status, 403);
  t.match(otherUser.body, failure('forbidden'));
  const itself = await call('PUT', '/users/alice/apps/work-buddy', { headers: buddy.auth });
  t.equal(itself.status, 403, 'an app cannot install itself');
  t.equal(itself.body.error.message, 'An app cannot do this: the user or a platform app installs a user\'s apps');
  t.equal((await call('PUT', '/users/alice/apps/hugo-ai', { headers: buddy.auth })).status, 403, 'nor another app');
  const unknown = await call('PUT', '/users/alice/apps/no-such-app', { headers: alice.auth });
  t.equal(unknown.status, 404);
  t.same(unknown.body, { success: false, error: { code: 'not_found', message: 'App no-such-app not found' } });
  t.same(await installations(), before, 'nothing installed');
  t.equal((await call('PUT', '/users/bob/apps/hugo-ai', { headers: core.auth })).status, 201, 'a platform app installs for a user');
});

t.test('bad input: a malformed user or app id, or a body with fields → 400, nothing installed', async (t) => {
  const before = await installations();
  const badUser = await call('PUT', '/users/bad%20user/apps/hugo-ai', { headers: core.auth });
  t.equal(badUser.status, 400);
  t.match(badUser.body, failure('validation_error'));
  const badApp = await call('PUT', '/users/bob/apps/Not_An_App!', { headers: core.auth });
  t.equal(badApp.status, 400);
  const body = await call('PUT', '/users/carol/apps/hugo-ai', { headers: core.auth, json: { force: true } });
  t.equal(body.status, 400);
  t.match(body.body, failure('validation_error'));
  t.same(await installations(), before);
});

t.test('GET /users/:userId/apps: the installed apps, newest first, for the user or a platform app only', async (t) => {
  await call('PUT', '/users/alice/apps/hugo-ai', { headers: alice.auth });
  const mine = await call('GET', '/users/alice/apps', { headers: alice.auth });
  t.equal(mine.status, 200);
  t.same(mine.body.apps.map((a: { app_id: string }) => a.app_id), ['hugo-ai', 'work-buddy']);
  t.match(mine.body.apps[1], { app_name: 'Work Buddy', app_icon: 'https://workbuddy.com/icon.png' });
  t.equal((await call('GET', '/users/alice/apps', { headers: core.auth })).status, 200);
  t.equal((await call('GET', '/users/alice/apps', { headers: bob.auth })).status, 403);
  t.equal((await call('GET', '/users/alice/apps', { headers: buddy.auth })).status, 403);
});

t.test('GET /apps/:appId/installations: the app\'s own users, paged with a cursor; another app gets 403', async (t) => {
  for (const user of ['u1', 'u2', 'u3']) await call('PUT', `/users/${user}/apps/hugo-ai`, { headers: core.auth });
  const seen: string[] = [];
  let cursor: string | null = null;
  do {
    const page: { status: number; body: any } = await call('GET', `/apps/hugo-ai/installations?limit=2${cursor ? `&cursor=${cursor}` : ''}`, { headers: hugo.auth });
    t.equal(page.status, 200);
    seen.push(...page.body.installations.map((i: { user_id: string }) => i.user_id));
    cursor = page.body.next_cursor;
  } while (cursor);
  t.same(seen, ['bob', 'alice', 'u1', 'u2', 'u3'], 'every installation once, oldest first');
  t.equal((await call('GET', '/apps/hugo-ai/installations', { headers: buddy.auth })).status, 403);
  const badCursor = await call('GET', '/apps/hugo-ai/installations?cursor=garbage', { headers: hugo.auth });
  t.equal(badCursor.status, 400);
});

t.test('DELETE uninstalls (204) and records app.uninstalled; the next create is 403; what was delivered stays', async (t) => {
  const res = await call('DELETE', '/users/alice/apps/work-buddy', { headers: alice.auth });
  t.equal(res.status, 204);
  t.match(await appEvents('uninstalled'), [{ app_id: 'work-buddy', user_id: 'alice', event_data: { source: 'oriva_core' } }]);
  const refused = await create(buddy, notification({ external_id: 'n-after', user_id: 'alice' }));
  t.equal(refused.status, 403);
  t.match(refused.body, failure('not_installed'));
  const feed = await call('GET', '/users/alice/notifications?app_id=work-buddy', { headers: alice.auth });
  t.ok(feed.body.notifications.length >= 3, 'the notifications delivered before the uninstall are still in the feed');
  const again = await call('DELETE', '/users/alice/apps/work-buddy', { headers: alice.auth });
  t.equal(again.status, 404);
  t.same(again.body, { success: false, error: { code: 'not_found', message: 'App work-buddy is not installed for this user' } });
  t.equal((await call('DELETE', '/users/bob/apps/hugo-ai', { headers: hugo.auth })).status, 403, 'an app cannot uninstall');
});

t.test('row-level security: acting as an app, an unfiltered query sees only that app\'s installations', async (t) => {
  const api = db.pool('oriva_api');
  const asHugo = await inTransaction(api, { appId: 'hugo-ai' }, async (c) => (await c.query('select distinct app_id from oriva.app_installations')).rows);
  t.same(asHugo, [{ app_id: 'hugo-ai' }]);
  const asBob = await inTransaction(api, { userId: 'bob' }, async (c) => (await c.query('select distinct user_id from oriva.app_installations')).rows);
  t.same(asBob, [{ user_id: 'bob' }]);
  const insert = inTransaction(api, { appId: 'hugo-ai' }, (c) => c.query(`insert into oriva.app_installations (user_id, app_id) values ('mallory', 'hugo-ai')`));
  await t.rejects(insert, /row-level security/, 'an app cannot write installations, even its own');
});

t.test('INSTALL_REQUIRED=false: a deployment that manages consent elsewhere lets every app through', async (t) => {
  const open = client(await startTestServer(t, db, { INSTALL_REQUIRED: 'false' }));
  const res = await open('POST', '/apps/work-buddy/notifications', { headers: buddy.auth, json: notification({ external_id: 'open-1', user_id: 'zoe' }) });
  t.equal(res.status, 201);
});
