// What one app can send cannot hurt another: app JSON is bounded in depth and size, the platform's
// event categories are its own, and event_data.source is always the publishing app.
import t from 'tap';
import { APP_JSON_MAX_BYTES, APP_JSON_MAX_DEPTH, jsonDepth } from '../../lib/app-json.js';
import { testDatabase } from '../helpers/db.js';
import { createTestApp, startTestServer } from '../helpers/stack.js';
import { client, failure, notification, rowCounts } from './http.js';

const db = await testDatabase(t);
const server = await startTestServer(t, db);
const call = client(server);
const wb = await createTestApp(db, { id: 'work-buddy', name: 'Work Buddy' });
const hugo = await createTestApp(db, { id: 'hugo-ai', name: 'Hugo AI' });
const jobCount = async () => (await db.owner.query(`select count(*)::int as n from graphile_worker.jobs`)).rows[0].n as number;

/** An array nested `levels` deep ([[[…]]]), as raw JSON text (JSON.stringify itself would overflow past ~10k levels). */
const nestedArray = (levels: number) => `${'['.repeat(levels)}${']'.repeat(levels)}`;
const nestedObject = (levels: number): Record<string, unknown> => {
  let value: Record<string, unknown> = {};
  for (let i = 1; i < levels; i++) value = { a: value };
  return value;
};

const event = (overrides: Record<string, unknown> = {}) => ({
  event_category: 'session', event_type: 'started', entity_type: 'session', entity_id: 's1', user_id: 'user_456', ...overrides,
});
/** The event body as raw text, with event_data spliced in as given (possibly deeper than JSON.stringify handles). */
const eventRaw = (eventData: string) => JSON.stringify(event({ event_data: '@@' })).replace('"@@"', eventData);

t.test('jsonDepth measures without recursion', async (t) => {
  t.equal(jsonDepth(1), 0);
  t.equal(jsonDepth({}), 1);
  t.equal(jsonDepth({ a: [1, { b: null }] }), 3);
  t.equal(jsonDepth(JSON.parse(nestedArray(100_000))), 100_000, 'a 100,000-deep array does not overflow the stack');
  t.equal(jsonDepth(JSON.parse(nestedArray(100_000)), 40), 41, 'stops just past the limit');
});

t.test('event_data nested ~4,100 and 5,000 deep → 400 naming the field, nothing written', async (t) => {
  const before = await rowCounts(db);
  const jobs = await jobCount();
  for (const levels of [4_100, 4_113, 5_000]) {
    // event_data is an object whose one key holds the deep array, as the attacker sent it.
    const res = await call('POST', '/apps/work-buddy/events', { headers: { ...wb.auth, 'content-type': 'application/json' }, raw: eventRaw(`{"x":${nestedArray(levels)}}`) });
    t.equal(res.status, 400, `${levels} levels`);
    t.match(res.body, failure('validation_error'));
    t.equal(res.body.error.message, `body/event_data is nested deeper than ${APP_JSON_MAX_DEPTH} levels`);
    t.same(res.body.error.details, [{ path: 'body/event_data', message: `is nested deeper than ${APP_JSON_MAX_DEPTH} levels` }]);
  }
  t.same(await rowCounts(db), before);
  t.equal(await jobCount(), jobs, 'no job enqueued');
});

t.test('exactly 32 levels is accepted; 33 is not', async (t) => {
  const ok = await call('POST', '/apps/work-buddy/events', { headers: wb.auth, json: event({ event_data: nestedObject(APP_JSON_MAX_DEPTH) }) });
  t.equal(ok.status, 200);
  const deep = await call('POST', '/apps/work-buddy/events', { headers: wb.auth, json: event({ event_data: nestedObject(APP_JSON_MAX_DEPTH + 1) }) });
  t.equal(deep.status, 400);
  t.equal(deep.body.error.message, `body/event_data is nested deeper than ${APP_JSON_MAX_DEPTH} levels`);
});

t.test(`app JSON larger than ${APP_JSON_MAX_BYTES} bytes → 400 naming the field, nothing written`, async (t) => {
  const before = await rowCounts(db);
  const big = { text: 'x'.repeat(APP_JSON_MAX_BYTES) };
  const ev = await call('POST', '/apps/work-buddy/events', { headers: wb.auth, json: event({ event_data: big }) });
  t.equal(ev.status, 400);
  t.equal(ev.body.error.message, `body/event_data is larger than ${APP_JSON_MAX_BYTES} bytes as JSON`);
  const single = await call('POST', '/apps/work-buddy/notifications', { headers: wb.auth, json: notification({ context_data: big }) });
  t.equal(single.status, 400);
  t.equal(single.body.error.message, `body/context_data is larger than ${APP_JSON_MAX_BYTES} bytes as JSON`);
  t.same(await rowCounts(db), before);
});

t.test('context_data: deep in a single create and in a batch item → 400 / failed item, nothing written', async (t) => {
  const before = await rowCounts(db);
  const raw = JSON.stringify(notification({ context_data: '@@' })).replace('"@@"', `{"x":${nestedArray(5_000)}}`);
  const single = await call('POST', '/apps/work-buddy/notifications', { headers: { ...wb.auth, 'content-type': 'application/json' }, raw });
  t.equal(single.status, 400);
  t.equal(single.body.error.message, `body/context_data is nested deeper than ${APP_JSON_MAX_DEPTH} levels`);
  const batchRaw = `{"notifications":[${raw}]}`;
  const batch = await call('POST', '/apps/work-buddy/notifications/batch', { headers: { ...wb.auth, 'content-type': 'application/json' }, raw: batchRaw });
  t.not(batch.status, 500);
  t.equal(batch.body.created, 0);
  t.match(batch.body.results[0], { success: false, error: { code: 'validation_error', message: `body/notifications/0/context_data is nested deeper than ${APP_JSON_MAX_DEPTH} levels` } });
  t.same(await rowCounts(db), before);
});

t.test('reserved categories → 400 reserved_category, nothing written', async (t) => {
  const before = await rowCounts(db);
  for (const category of ['notification', 'app', 'webhook', 'broadcast', 'preferences']) {
    const res = await call('POST', '/apps/hugo-ai/events', { headers: hugo.auth, json: event({ event_category: category, event_type: 'created' }) });
    t.equal(res.status, 400, category);
    t.match(res.body, failure('reserved_category'));
    t.equal(res.body.error.message, `event_category "${category}" is reserved for events the platform emits`);
  }
  t.same(await rowCounts(db), before);
});

t.test("the spoof: app B's notification.created claiming to be app A's → 400, nothing written", async (t) => {
  const before = await rowCounts(db);
  const spoof = event({
    event_category: 'notification', event_type: 'created', entity_type: 'notification', entity_id: 'n-fake',
    event_data: { notification: { id: 'n-fake', app_id: 'work-buddy', app_name: 'Work Buddy', title: 'Urgent: verify your account', priority: 'urgent', action_url: 'https://evil.example/login' } },
  });
  const res = await call('POST', '/apps/hugo-ai/events', { headers: hugo.auth, json: spoof });
  t.equal(res.status, 400);
  t.match(res.body, failure('reserved_category'));
  t.same(await rowCounts(db), before);
});

t.test('event_data.source is always the publishing app', async (t) => {
  const res = await call('POST', '/apps/hugo-ai/events', { headers: hugo.auth, json: event({ event_data: { source: 'work-buddy', n: 1 } }) });
  t.equal(res.status, 200);
  const { rows } = await db.system.query(`select app_id, event_data from oriva.platform_events where id = $1`, [res.body.event_id]);
  t.same(rows[0], { app_id: 'hugo-ai', event_data: { source: 'hugo-ai', n: 1 } });
});

t.test('webhooks per app are capped (WEBHOOKS_PER_APP_MAX): one more → 409 webhook_limit, nothing written', async (t) => {
  const capped = client(await startTestServer(t, db, { WEBHOOKS_PER_APP_MAX: '3' }));
  const solo = await createTestApp(db, { id: 'capped-app' });
  const hook = (i: number) => ({ webhook_url: `https://93.184.216.34/hook/${i}`, subscribed_events: ['*'] });
  const created = await Promise.all([0, 1, 2, 3, 4].map((i) => capped('POST', '/apps/capped-app/webhooks', { headers: solo.auth, json: hook(i) })));
  t.same(created.map((r) => r.status).sort(), [201, 201, 201, 409, 409], 'concurrent creates: exactly the cap succeeds');
  const refused = created.find((r) => r.status === 409)!;
  t.match(refused.body, failure('webhook_limit'));
  t.equal(refused.body.error.message, 'An app may have at most 3 webhooks; delete one before adding another');
  const { rows } = await db.system.query(`select count(*)::int as n from oriva.app_webhooks where app_id = 'capped-app'`);
  t.equal(rows[0].n, 3);
  t.equal((await capped('POST', '/apps/hugo-ai/webhooks', { headers: hugo.auth, json: hook(9) })).status, 201, 'per app');
});

t.test('Retry-After is rounded up: retrying exactly then succeeds', async (t) => {
  const limited = client(await startTestServer(t, db, { RATE_LIMIT_EVENTS: '1', RATE_LIMIT_WINDOW_MS: '2500' }));
  const solo = await createTestApp(db, { id: 'retry-after-app' });
  t.equal((await limited('POST', '/apps/retry-after-app/events', { headers: solo.auth, json: event() })).status, 200);
  const refused = await limited('POST', '/apps/retry-after-app/events', { headers: solo.auth, json: event() });
  t.equal(refused.status, 429);
  const after = Number(refused.headers.get('retry-after'));
  t.ok(after >= 1 && after <= 4, `Retry-After ${after} (a 2.5 s window, its end rounded up to a whole second)`);
  t.equal(refused.body.error.details.retry_after, after);
  await new Promise((r) => setTimeout(r, after * 1000));
  t.equal((await limited('POST', '/apps/retry-after-app/events', { headers: solo.auth, json: event() })).status, 200, 'retrying at Retry-After is answered');
});

t.test('rows written before the bounds (by SQL) do not break reads: the deep value is replaced by a marker', async (t) => {
  const deep = `{"x":${nestedArray(5_000)}}`;
  const { rows: [ev] } = await db.system.query(
    `insert into oriva.platform_events (app_id, user_id, event_category, event_type, entity_type, entity_id, event_data)
     values ('work-buddy', 'user_456', 'legacy', 'deep', 'x', 'legacy-1', $1::jsonb) returning id`, [deep]);
  const { rows: [n] } = await db.system.query(
    `insert into oriva.platform_notifications (app_id, external_id, user_id, notification_type, title, body, context_data)
     values ('work-buddy', 'legacy-deep', 'user_456', 'legacy', 'Legacy', 'Deep context', $1::jsonb) returning id`, [deep]);
  await db.system.query(`insert into oriva.notification_state (notification_id, app_id, user_id) values ($1, 'work-buddy', 'user_456')`, [n.id]);
  await call('POST', '/apps/work-buddy/notifications', { headers: wb.auth, json: notification() });

  const events = await call('GET', '/apps/work-buddy/events?entity_id=legacy-1', { headers: wb.auth });
  t.equal(events.status, 200);
  t.same(events.body.events.map((e: { id: string; event_data: unknown }) => [e.id, e.event_data]), [[ev.id, { omitted: 'event_data is nested deeper than 32 levels' }]]);
  const feed = await call('GET', '/users/user_456/notifications?limit=100', { headers: wb.auth });
  t.equal(feed.status, 200);
  t.same(feed.body.notifications.find((x: { id: string }) => x.id === n.id)?.context_data, { omitted: 'context_data is nested deeper than 32 levels' });
  t.ok(feed.body.notifications.length > 1, 'the other notifications are still listed');
});
