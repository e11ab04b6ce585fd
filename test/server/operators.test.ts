// The admin console's API (issue 17): GET /me, and for platform apps only GET /webhook-health,
// POST /webhook-health/:id/replay and GET /search/notifications — what they return, every refusal
// with its exact error and nothing written, and row-level security letting platform apps read other
// apps' webhooks but never change them.
import t from 'tap';
import { inTransaction } from '../../lib/db.js';
import { testDatabase } from '../helpers/db.js';
import { createTestApp, startTestServer, userAuth } from '../helpers/stack.js';
import { insertWebhook } from '../worker/helpers/fixtures.js';
import { client, failure, notification } from './http.js';

const db = await testDatabase(t);
const call = client(await startTestServer(t, db));
const core = await createTestApp(db, { id: 'oriva-core', name: 'Oriva Core', platform: true });
const buddy = await createTestApp(db, { id: 'work-buddy', name: 'Work Buddy' });
const hugo = await createTestApp(db, { id: 'hugo-ai', name: 'Hugo AI' });
const ann = await userAuth('ann');
const live = await insertWebhook(db.system, buddy.appId, { url: 'https://example.com/live', events: ['notification.created'] });
const gone = await insertWebhook(db.system, buddy.appId, { url: 'https://example.com/gone', events: ['notification.created'] });
await insertWebhook(db.system, hugo.appId, { url: 'https://example.com/quiet', events: ['notification.created'] });

let event: { id: string } | undefined;
t.test('the scripted state: a failing webhook, a disabled one, a healthy one, and notifications', async (t) => {
  await db.system.query(`update oriva.app_webhooks set is_active = false, disabled_reason = 'endpoint answered 410 Gone' where id = $1`, [gone.id]);
  await db.system.query(`update oriva.app_webhooks set failing_since = now() - interval '5 minutes', last_failure_at = now() where id = $1`, [live.id]);
  [event] = (await db.system.query<{ id: string }>(`select id from oriva.record_events(array[row('work-buddy', 'ann', 'task', 'done', 'task', 't1', '{}'::jsonb, null, null, true)::oriva.new_event])`)).rows;
  for (let i = 0; i < 4; i++) {
    await db.system.query(`insert into oriva.webhook_delivery_log (webhook_id, app_id, event_id, delivery_id, event_type, payload, status_code, success, error_message, delivered_at)
      values ($1, 'work-buddy', $2, 'msg_' || $3, 'task.done', '{}', 500, false, null, now() - ($3 || ' seconds')::interval)`, [live.id, event!.id, i]);
  }
  for (const [title, body] of [['Lunch', 'Buy an aubergine'], ['Standup', 'In five minutes'], ['Review', 'Aubergine parmigiana recipe']]) {
    t.equal((await call('POST', '/apps/work-buddy/notifications', { headers: buddy.auth, json: notification({ user_id: 'ann', title, body }) })).status, 201);
  }
  t.equal((await call('POST', '/apps/hugo-ai/notifications', { headers: hugo.auth, json: notification({ user_id: 'ben', title: 'Insight', body: 'An aubergine a day' }) })).status, 201);
});

t.test('GET /me says who the credentials belong to', async (t) => {
  t.same((await call('GET', '/me', { headers: core.auth })).body, { success: true, caller: { kind: 'app', app_id: 'oriva-core', name: 'Oriva Core', platform: true } });
  t.same((await call('GET', '/me', { headers: buddy.auth })).body, { success: true, caller: { kind: 'app', app_id: 'work-buddy', name: 'Work Buddy', platform: false } });
  t.same((await call('GET', '/me', { headers: ann.auth })).body, { success: true, caller: { kind: 'user', user_id: 'ann' } });
  const none = await call('GET', '/me');
  t.equal(none.status, 401);
  t.match(none.body, failure('unauthorized'));
});

t.test('GET /webhook-health: failing first, then disabled; never a secret', async (t) => {
  const r = await call('GET', '/webhook-health', { headers: core.auth });
  t.equal(r.status, 200);
  t.same(r.body.webhooks.map((w: { webhook_id: string }) => w.webhook_id), [live.id, gone.id], 'the healthy webhook is not listed');
  t.match(r.body.webhooks[0], { app_id: 'work-buddy', app_name: 'Work Buddy', url: 'https://example.com/live', is_active: true, failing_since: String, attempts: 4, failed: 4 });
  t.same(r.body.webhooks[0].last_errors.map((e: { delivery_id: string; error: string }) => [e.delivery_id, e.error]), [['msg_0', 'HTTP 500'], ['msg_1', 'HTTP 500'], ['msg_2', 'HTTP 500']], 'its last three errors, newest first');
  t.match(r.body.webhooks[1], { is_active: false, disabled_reason: 'endpoint answered 410 Gone', attempts: 0 });
  t.notMatch(JSON.stringify(r.body), /whsec_|webhook_secret/, 'no secret');
});

t.test('platform-only endpoints refuse everyone else with the exact error', async (t) => {
  const cases: [string, string, string, Record<string, string>, unknown, number, string, string][] = [
    ['an app key: health', 'GET', '/webhook-health', buddy.auth, undefined, 403, 'forbidden', 'Webhook health is for platform apps'],
    ['a user token: health', 'GET', '/webhook-health', ann.auth, undefined, 403, 'forbidden', 'This endpoint is for apps (API key), not user tokens'],
    ['an app key: search', 'GET', '/search/notifications?q=aubergine', buddy.auth, undefined, 403, 'forbidden', 'Notification search is for platform apps'],
    ['an app key: replay', 'POST', `/webhook-health/${live.id}/replay`, buddy.auth, {}, 403, 'forbidden', 'Webhook health is for platform apps'],
    ['replay: not a uuid', 'POST', '/webhook-health/nope/replay', core.auth, {}, 400, 'validation_error', 'params/id must match format "uuid"'],
    ['replay: an unknown webhook', 'POST', '/webhook-health/00000000-0000-4000-8000-000000000000/replay', core.auth, {}, 404, 'not_found', 'Webhook not found'],
    ['replay: a disabled webhook', 'POST', `/webhook-health/${gone.id}/replay`, core.auth, {}, 409, 'webhook_disabled', 'The webhook is disabled (endpoint answered 410 Gone); turn it back on with PATCH {"is_active": true} first'],
    ['replay: a bad since', 'POST', `/webhook-health/${live.id}/replay`, core.auth, { since: 'yesterday' }, 400, 'validation_error', 'body/since must match format "date-time"'],
    ['replay: an unknown field', 'POST', `/webhook-health/${live.id}/replay`, core.auth, { all: true }, 400, 'validation_error', 'body/all is not a known field'],
    ['search: words too long', 'GET', `/search/notifications?q=${'a'.repeat(201)}`, core.auth, undefined, 400, 'validation_error', 'query/q must NOT have more than 200 characters'],
    ['search: limit over 100', 'GET', '/search/notifications?limit=101', core.auth, undefined, 400, 'validation_error', 'query/limit must be <= 100'],
    ['search: a control character', 'GET', '/search/notifications?q=a%0Ab', core.auth, undefined, 400, 'validation_error', 'query/q must match pattern "^[^\\p{Cc}\\u2028\\u2029]*$"'],
    ['search: an unknown filter', 'GET', '/search/notifications?title=x', core.auth, undefined, 400, 'validation_error', 'query/title is not a known field'],
  ];
  const jobs = async () => (await db.owner.query<{ n: number }>('select count(*)::int as n from graphile_worker._private_jobs')).rows[0]!.n;
  const before = await jobs();
  for (const [what, method, path, headers, json, status, code, message] of cases) {
    const r = await call(method, path, { headers, json });
    t.equal(r.status, status, what);
    t.match(r.body, failure(code), what);
    t.equal(r.body.error.message, message, what);
  }
  t.equal(await jobs(), before, 'nothing was queued');
});

t.test('POST /webhook-health/:id/replay queues each failed delivery of any app once', async (t) => {
  const r = await call('POST', `/webhook-health/${live.id}/replay`, { headers: core.auth, json: {} });
  t.equal(r.status, 202);
  t.same([r.body.replayed, [...r.body.delivery_ids].sort()], [4, ['msg_0', 'msg_1', 'msg_2', 'msg_3']]);
  const { rows } = await db.owner.query(`select j.payload from graphile_worker._private_jobs j join graphile_worker._private_tasks k on k.id = j.task_id
                                           where k.identifier = 'webhook_deliver' and j.payload->>'event_id' = $1`, [event!.id]);
  t.match(rows.map((r) => r.payload), [{ webhook_id: live.id, event_id: event!.id, attempt: 1 }], 'a fresh attempt of the failed event (the four fake log rows share it)');
});

t.test('GET /search/notifications finds by words and filters, newest first', async (t) => {
  const titles = async (query: string) => ((await call('GET', `/search/notifications?${query}`, { headers: core.auth })).body.notifications as { title: string }[]).map((n) => n.title);
  t.same(await titles('q=aubergine'), ['Insight', 'Review', 'Lunch'], 'a word of the body, any case, every app');
  t.same(await titles('q=aubergine&app_id=work-buddy'), ['Review', 'Lunch']);
  t.same(await titles('q=aubergine -parmigiana&user_id=ann'), ['Lunch'], 'web-search syntax');
  t.same(await titles('q="five minutes"'), ['Standup'], 'a phrase');
  t.same(await titles('user_id=ben'), ['Insight']);
  t.same(await titles('q=aubergine&limit=1'), ['Insight']);
  t.same(await titles('q=courgette'), []);
  const one = (await call('GET', '/search/notifications?q=standup', { headers: core.auth })).body.notifications[0];
  t.match(one, { app_id: 'work-buddy', user_id: 'ann', notification_type: 'session_reminder', category: 'system', priority: 'normal', status: 'unread' });
});

t.test('row-level security: platform apps read other apps’ webhooks, never change them', async (t) => {
  const api = db.pool('oriva_api');
  const platform = { appId: 'oriva-core', platform: true };
  const seen = await inTransaction(api, platform, async (c) => (await c.query('select count(*)::int as n from oriva.app_webhooks')).rows[0].n);
  t.equal(seen, 3, 'a platform app reads every webhook');
  const changed = await inTransaction(api, platform, async (c) => (await c.query(`update oriva.app_webhooks set webhook_url = 'https://evil.example' where id = $1`, [live.id])).rowCount);
  t.equal(changed, 0, 'but updates none of them');
  const deleted = await inTransaction(api, platform, async (c) => (await c.query('delete from oriva.webhook_delivery_log')).rowCount);
  t.equal(deleted, 0, 'and deletes no delivery log');
  const other = await inTransaction(api, { appId: 'hugo-ai' }, async (c) => (await c.query('select count(*)::int as n from oriva.app_webhooks')).rows[0].n);
  t.equal(other, 1, 'an app still reads only its own');
});
