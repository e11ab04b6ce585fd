// Contract tests: POST /apps/:appId/notifications and …/batch.
import pg from 'pg';
import t from 'tap';
import { testDatabase } from '../helpers/db.js';
import { createTestApp, startTestServer } from '../helpers/stack.js';
import { client, failure, notification, rowCounts } from './http.js';

const db = await testDatabase(t);
const server = await startTestServer(t, db);
const call = client(server);
const app = await createTestApp(db, { id: 'work-buddy', name: 'Work Buddy' });
const other = await createTestApp(db, { id: 'hugo-ai', name: 'Hugo AI' });
const path = '/apps/work-buddy/notifications';

async function jobs(): Promise<{ task_identifier: string; key: string | null; run_at: Date; payload: any }[]> {
  const c = new pg.Client(db.url);
  await c.connect();
  try {
    return (await c.query(`select t.identifier as task_identifier, j.key, j.run_at, j.payload
                         from graphile_worker._private_jobs j join graphile_worker._private_tasks t on t.id = j.task_id
                        where t.identifier = 'notification_expire'`)).rows;
  } finally {
    await c.end();
  }
}

t.test('create: 201 with the id; row, unread state, notification.created event carrying it, one transaction', async (t) => {
  const body = notification({ external_id: 'wb_notif_123', priority: 'high', action_url: 'workbuddy://session/789', action_label: 'View Session', context_data: { session_id: 'session_789' } });
  const res = await call('POST', path, { headers: app.auth, json: body });
  t.equal(res.status, 201);
  t.match(res.body, { success: true, notification_id: /^[0-9a-f-]{36}$/, created_at: String });
  t.ok(res.headers.get('x-ratelimit-limit'), 'rate-limit headers');
  const id = res.body.notification_id;
  const { rows: [row] } = await db.system.query(`select n.*, s.status from oriva.platform_notifications n join oriva.notification_state s on s.notification_id = n.id where n.id = $1`, [id]);
  t.match(row, { app_id: 'work-buddy', external_id: 'wb_notif_123', user_id: 'user_456', title: body.title, priority: 'high', status: 'unread', context_data: { session_id: 'session_789' } });
  const { rows: events } = await db.system.query(`select * from oriva.platform_events where entity_id = $1`, [id]);
  t.equal(events.length, 1);
  t.match(events[0], { app_id: 'work-buddy', event_category: 'notification', event_type: 'created', entity_type: 'notification', user_id: 'user_456' });
  t.match(events[0].event_data, { source: 'work-buddy', notification: { id, title: body.title, app_name: 'Work Buddy', status: 'unread', action_url: 'workbuddy://session/789' } });
  t.same(await jobs(), [], 'no expiry job without expires_at');
});

t.test('create with expires_at enqueues exactly one expiry job at that time', async (t) => {
  const res = await call('POST', path, { headers: app.auth, json: notification({ expires_at: '2031-06-01T12:00:00Z' }) });
  t.equal(res.status, 201);
  const found = (await jobs()).filter((j) => j.key === `expire:${res.body.notification_id}`);
  t.equal(found.length, 1);
  t.equal(found[0]!.run_at.toISOString(), '2031-06-01T12:00:00.000Z');
  t.same(found[0]!.payload, { notification_id: res.body.notification_id });
  const { rows } = await db.system.query(`select expires_at from oriva.notification_state where notification_id = $1`, [res.body.notification_id]);
  t.equal(rows[0].expires_at.toISOString(), '2031-06-01T12:00:00.000Z', 'the state row carries expires_at for the feed counts');
});

const bad: [string, Record<string, unknown>, string][] = [
  ['empty title', { title: '' }, 'body/title'],
  ['title over 200', { title: 'x'.repeat(201) }, 'body/title'],
  ['empty body', { body: '' }, 'body/body'],
  ['body over 1000', { body: 'x'.repeat(1001) }, 'body/body'],
  ['invalid priority', { priority: 'critical' }, 'body/priority'],
  ['control character in title', { title: 'Hi\u0007there' }, 'body/title'],
  ['line break in title', { title: 'two\nlines' }, 'body/title'],
  ['NUL in body', { body: 'a\u0000b' }, 'body/body'],
  ['missing user_id', { user_id: undefined }, 'body/user_id'],
  ['bad user_id', { user_id: 'no spaces allowed' }, 'body/user_id'],
  ['missing external_id', { external_id: undefined }, 'body/external_id'],
  ['unknown field', { colour: 'red' }, 'body/colour'],
  ['javascript: action_url', { action_url: 'javascript:alert(1)' }, 'body/action_url'],
  ['expires_at not a date', { expires_at: 'tomorrow' }, 'body/expires_at'],
  ['expires_at in the past', { expires_at: '2001-01-01T00:00:00Z' }, 'body/expires_at'],
  ['context_data not an object', { context_data: [1, 2] }, 'body/context_data'],
];
for (const [name, override, field] of bad) {
  t.test(`create: ${name} → 400 validation_error naming ${field}, nothing written`, async (t) => {
    const before = await rowCounts(db);
    const res = await call('POST', path, { headers: app.auth, json: notification(override) });
    t.equal(res.status, 400);
    t.match(res.body, failure('validation_error'));
    t.ok(res.body.error.details.some((d: { path: string }) => d.path === field), `details name ${field}`);
    t.same(await rowCounts(db), before);
  });
}

t.test('create: a body that is not an object → 400', async (t) => {
  const before = await rowCounts(db);
  for (const json of [[], 'text', 42, null]) {
    const res = await call('POST', path, { headers: app.auth, json });
    t.equal(res.status, 400, JSON.stringify(json));
    t.match(res.body, failure('validation_error'));
  }
  t.same(await rowCounts(db), before);
});

t.test('create: malformed JSON → 400 invalid_json; not JSON → 415; too large → 413; nothing written', async (t) => {
  const before = await rowCounts(db);
  const malformed = await call('POST', path, { headers: { ...app.auth, 'content-type': 'application/json' }, raw: '{"title": ' });
  t.equal(malformed.status, 400);
  t.match(malformed.body, failure('invalid_json'));
  const form = await call('POST', path, { headers: { ...app.auth, 'content-type': 'application/x-www-form-urlencoded' }, raw: 'title=x' });
  t.equal(form.status, 415);
  t.match(form.body, failure('unsupported_media_type'));
  const text = await call('POST', path, { headers: { ...app.auth, 'content-type': 'text/plain' }, raw: JSON.stringify(notification()) });
  t.equal(text.status, 415);
  const large = await call('POST', path, { headers: app.auth, json: notification({ context_data: { blob: 'x'.repeat(70_000) } }) });
  t.equal(large.status, 413);
  t.match(large.body, failure('payload_too_large'));
  const missing = await call('POST', path, { headers: app.auth });
  t.equal(missing.status, 400, 'no body at all');
  t.same(await rowCounts(db), before);
});

t.test('create: 401 without or with a bad key; 403 on another app’s path; nothing written', async (t) => {
  const before = await rowCounts(db);
  const none = await call('POST', path, { json: notification() });
  t.equal(none.status, 401);
  t.match(none.body, failure('unauthorized'));
  const wrong = await call('POST', path, { headers: { authorization: 'Bearer oriva_sk_not-a-key' }, json: notification() });
  t.equal(wrong.status, 401);
  const foreign = await call('POST', path, { headers: other.auth, json: notification() });
  t.equal(foreign.status, 403);
  t.match(foreign.body, failure('forbidden'));
  t.same(await rowCounts(db), before);
});

t.test('create: duplicate external_id for the app → 409; another app may reuse it', async (t) => {
  const first = await call('POST', path, { headers: app.auth, json: notification({ external_id: 'dup-1' }) });
  t.equal(first.status, 201);
  const before = await rowCounts(db);
  const again = await call('POST', path, { headers: app.auth, json: notification({ external_id: 'dup-1', title: 'Other' }) });
  t.equal(again.status, 409);
  t.match(again.body, failure('conflict'));
  t.same(await rowCounts(db), before, 'nothing written');
  const elsewhere = await call('POST', '/apps/hugo-ai/notifications', { headers: other.auth, json: notification({ external_id: 'dup-1' }) });
  t.equal(elsewhere.status, 201);
});

t.test('Idempotency-Key: same key + same body → the stored response; different body → 422', async (t) => {
  const body = notification({ external_id: 'idem-1' });
  const headers = { ...app.auth, 'idempotency-key': 'key-123' };
  const first = await call('POST', path, { headers, json: body });
  t.equal(first.status, 201);
  const after = await rowCounts(db);
  const replay = await call('POST', path, { headers, json: body });
  t.equal(replay.status, 201);
  t.same(replay.body, first.body, 'same response');
  t.equal(replay.headers.get('idempotent-replayed'), 'true');
  t.same(await rowCounts(db), after, 'nothing written twice');
  const changed = await call('POST', path, { headers, json: { ...body, title: 'Changed' } });
  t.equal(changed.status, 422);
  t.match(changed.body, failure('idempotency_key_reused'));
  const otherApp = await call('POST', '/apps/hugo-ai/notifications', { headers: { ...other.auth, 'idempotency-key': 'key-123' }, json: body });
  t.equal(otherApp.status, 201, 'keys are per app');
  const badKey = await call('POST', path, { headers: { ...app.auth, 'idempotency-key': 'x'.repeat(300) }, json: notification() });
  t.equal(badKey.status, 400);
  t.match(badKey.body, failure('invalid_idempotency_key'));
});

t.test('Idempotency-Key: a failed request stores nothing; keys older than 24 h are forgotten', async (t) => {
  const headers = { ...app.auth, 'idempotency-key': 'retry-me' };
  const dup = await call('POST', path, { headers, json: notification({ external_id: 'dup-1' }) });
  t.equal(dup.status, 409);
  const { rows } = await db.system.query(`select count(*)::int as n from oriva.idempotency_keys where key = 'retry-me'`);
  t.equal(rows[0].n, 0, 'the failure did not keep the key');
  const ok = await call('POST', path, { headers, json: notification({ external_id: 'fresh-1' }) });
  t.equal(ok.status, 201, 'the same key works for a corrected request');
  await db.system.query(`update oriva.idempotency_keys set created_at = now() - interval '25 hours' where key = 'retry-me'`);
  const later = await call('POST', path, { headers, json: notification({ external_id: 'fresh-2' }) });
  t.equal(later.status, 201, 'an expired key is a new key');
  t.not(later.body.notification_id, ok.body.notification_id);
});

t.test('batch: per-item results, valid items in one transaction, duplicates and invalid items reported', async (t) => {
  const items = [
    notification({ external_id: 'b-1' }),
    notification({ external_id: 'b-2', title: '' }),
    notification({ external_id: 'dup-1' }),
    notification({ external_id: 'b-3', priority: 'urgent', expires_at: '2032-01-01T00:00:00Z' }),
    notification({ external_id: 'b-1' }),
  ];
  const before = await rowCounts(db);
  const res = await call('POST', `${path}/batch`, { headers: app.auth, json: { notifications: items } });
  t.equal(res.status, 200);
  t.match(res.body, { success: false, created: 2, failed: 3 });
  t.match(res.body.results, [
    { index: 0, success: true, status: 201, notification_id: String, external_id: 'b-1' },
    { index: 1, success: false, status: 400, error: { code: 'validation_error', details: [{ path: 'body/notifications/1/title' }] } },
    { index: 2, success: false, status: 409, error: { code: 'conflict' } },
    { index: 3, success: true, status: 201 },
    { index: 4, success: false, status: 409 },
  ]);
  const after = await rowCounts(db);
  t.equal(after.notifications - before.notifications, 2);
  t.equal(after.events - before.events, 2, 'one notification.created each');
  t.ok((await jobs()).some((j) => j.key === `expire:${res.body.results[3].notification_id}`), 'expiry job for the item with expires_at');
});

t.test('batch: more than 100, empty, or not a list → 400 and nothing written', async (t) => {
  const before = await rowCounts(db);
  const many = Array.from({ length: 101 }, (_, i) => notification({ external_id: `many-${i}` }));
  for (const body of [{ notifications: many }, { notifications: [] }, { notifications: 'x' }, {}]) {
    const res = await call('POST', `${path}/batch`, { headers: app.auth, json: body });
    t.equal(res.status, 400);
    t.match(res.body, failure('validation_error'));
  }
  t.same(await rowCounts(db), before);
  const ok = await call('POST', `${path}/batch`, { headers: app.auth, json: { notifications: many.slice(0, 100) } });
  t.equal(ok.status, 200);
  t.equal(ok.body.created, 100);
});
