// Contract tests: PATCH /notifications/:id (the state machine) and DELETE /notifications/:id.
import t from 'tap';
import { testDatabase } from '../helpers/db.js';
import { createTestApp, startTestServer, userAuth } from '../helpers/stack.js';
import { client, failure, notification, rowCounts } from './http.js';

const db = await testDatabase(t);
const server = await startTestServer(t, db);
const call = client(server);
const wb = await createTestApp(db, { id: 'work-buddy', name: 'Work Buddy' });
const hugo = await createTestApp(db, { id: 'hugo-ai', name: 'Hugo AI' });
const core = await createTestApp(db, { id: 'oriva-core', name: 'Oriva Core', platform: true });
const user = await userAuth('user_456');
const stranger = await userAuth('user_789');

const create = async () => {
  const res = await call('POST', '/apps/work-buddy/notifications', { headers: wb.auth, json: notification() });
  return res.body.notification_id as string;
};
const patch = (id: string, json: unknown, auth = user.auth) => call('PATCH', `/notifications/${id}`, { headers: auth, json });
const stateOf = async (id: string) => (await db.system.query(`select * from oriva.notification_state where notification_id = $1`, [id])).rows[0];
const eventsOf = async (id: string) => (await db.system.query(`select event_type, event_data, app_id from oriva.platform_events where entity_id = $1 order by seq`, [id])).rows;

t.test('every allowed transition: 200, state row, one event in the same transaction', async (t) => {
  const id = await create();
  for (const [to, from] of [['read', 'unread'], ['unread', 'read'], ['read', 'unread'], ['clicked', 'read'], ['dismissed', 'clicked']] as const) {
    const res = await patch(id, { status: to });
    t.equal(res.status, 200, `${from} → ${to}`);
    t.match(res.body, { success: true, notification_id: id, status: to, previous_status: from, changed: true, updated_at: String });
  }
  const events = await eventsOf(id);
  t.same(events.map((e) => e.event_type), ['created', 'read', 'unread', 'read', 'clicked', 'dismissed']);
  t.ok(events.every((e) => e.app_id === 'work-buddy'), "events are owned by the notification's app");
  const state = await stateOf(id);
  t.ok(state.read_at && state.clicked_at && state.dismissed_at, 'timestamps recorded');
});

t.test('the same status again is a 200 no-op without an event', async (t) => {
  const id = await create();
  await patch(id, { status: 'dismissed', dismissed_from: 'oriva_core' });
  const before = await rowCounts(db);
  const again = await patch(id, { status: 'dismissed', dismissed_from: 'work_buddy' });
  t.equal(again.status, 200);
  t.match(again.body, { status: 'dismissed', changed: false });
  t.same(await rowCounts(db), before);
  t.equal((await stateOf(id)).dismissed_from, 'oriva_core', 'first dismissal kept');
});

t.test('forbidden transitions → 400 invalid_transition, nothing written', async (t) => {
  const dismissed = await create();
  await patch(dismissed, { status: 'dismissed' });
  const clicked = await create();
  await patch(clicked, { status: 'clicked' });
  const unread = await create();
  const expired = await create();
  await db.system.query(`update oriva.notification_state set status = 'expired' where notification_id = $1`, [expired]);
  const pastDue = await create();
  await db.system.query(`update oriva.platform_notifications set expires_at = now() - interval '1 second' where id = $1`, [pastDue]);
  const before = await rowCounts(db);
  for (const [id, to, why] of [
    [dismissed, 'read', 'dismissed → read'], [dismissed, 'unread', 'dismissed → unread'], [dismissed, 'clicked', 'dismissed → clicked'],
    [clicked, 'read', 'clicked → read'], [clicked, 'unread', 'clicked → unread'], [unread, 'unread', 'ok: same'],
    [expired, 'read', 'expired → read'], [expired, 'dismissed', 'expired → dismissed'], [pastDue, 'read', 'past expires_at → read'],
  ] as const) {
    const res = await patch(id, { status: to });
    if (why === 'ok: same') {
      t.equal(res.status, 200, why);
      continue;
    }
    t.equal(res.status, 400, why);
    t.match(res.body, failure('invalid_transition'), why);
  }
  t.same(await rowCounts(db), before);
});

t.test('bad bodies → 400 naming the field; expired is system-only', async (t) => {
  const id = await create();
  const before = await rowCounts(db);
  for (const [json, field] of [
    [{ status: 'expired' }, 'body/status'], [{ status: 'archived' }, 'body/status'], [{}, 'body/status'],
    [{ status: 'dismissed', dismissed_from: 'has spaces' }, 'body/dismissed_from'],
    [{ status: 'clicked', click_action: 'a\u0001b' }, 'body/click_action'], [{ status: 'read', extra: 1 }, 'body/extra'],
  ] as const) {
    const res = await patch(id, json);
    t.equal(res.status, 400, JSON.stringify(json));
    t.ok(res.body.error.details.some((d: { path: string }) => d.path === field), field);
  }
  t.equal((await patch('not-a-uuid', { status: 'read' })).status, 400, 'id must be a UUID');
  t.equal((await call('PATCH', `/notifications/${id}`, { headers: { ...user.auth, 'content-type': 'text/plain' }, raw: 'read' })).status, 415);
  t.same(await rowCounts(db), before);
});

t.test('who may change it: its user, its app, a platform app; others 403; unknown 404; none 401', async (t) => {
  const id = await create();
  const before = await rowCounts(db);
  t.equal((await patch(id, { status: 'read' }, stranger.auth)).status, 403, "another user's token");
  t.match((await patch(id, { status: 'read' }, hugo.auth)).body, failure('forbidden'), 'another app');
  t.equal((await patch('00000000-0000-4000-8000-000000000000', { status: 'read' })).status, 404);
  t.match((await patch('00000000-0000-4000-8000-000000000000', { status: 'read' })).body, failure('not_found'));
  t.equal((await call('PATCH', `/notifications/${id}`, { json: { status: 'read' } })).status, 401);
  t.same(await rowCounts(db), before, 'nothing written');
  t.equal((await patch(id, { status: 'read' }, wb.auth)).status, 200, 'owner app');
  t.equal((await patch(id, { status: 'clicked', click_action: 'open' }, core.auth)).status, 200, 'platform app');
  t.equal((await patch(id, { status: 'dismissed' }, user.auth)).status, 200, 'its user');
});

t.test('DELETE: owner app only → 204, state cascades, notification.deleted recorded', async (t) => {
  const id = await create();
  const before = await rowCounts(db);
  t.equal((await call('DELETE', `/notifications/${id}`, { headers: hugo.auth })).status, 403, 'another app');
  t.equal((await call('DELETE', `/notifications/${id}`, { headers: core.auth })).status, 403, 'a platform app is not the owner');
  t.equal((await call('DELETE', `/notifications/${id}`, { headers: user.auth })).status, 403, 'a user token');
  t.equal((await call('DELETE', `/notifications/${id}`, {})).status, 401);
  t.equal((await call('DELETE', '/notifications/00000000-0000-4000-8000-000000000000', { headers: wb.auth })).status, 404);
  t.same(await rowCounts(db), before, 'nothing changed by refused deletes');
  const res = await call('DELETE', `/notifications/${id}`, { headers: wb.auth });
  t.equal(res.status, 204);
  t.equal(res.body, null, 'no body');
  const after = await rowCounts(db);
  t.equal(after.notifications, before.notifications - 1);
  t.equal(after.states, before.states - 1, 'state cascaded');
  const events = await eventsOf(id);
  t.equal(events.at(-1)?.event_type, 'deleted');
  t.equal((await call('DELETE', `/notifications/${id}`, { headers: wb.auth })).status, 404, 'gone');
});
