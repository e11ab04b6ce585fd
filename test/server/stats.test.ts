// Stats (issue 17, DESIGN §12): a scripted day for two apps — known notifications per hour, type and
// category, and what their users did and when — rolled up by the worker's rollup and read back
// through GET /apps/:appId/stats and GET /stats as exact figures; webhook attempts per app; bad ranges;
// and an app never seeing another app's figures (HTTP and row-level security).
import t, { type Test } from 'tap';
import { inTransaction, run } from '../../lib/db.js';
import { sqlFile } from '../../lib/sql.js';
import { binUpperMs } from '../../lib/stats.js';
import { rollUpStats } from '../../worker/stats/rollup.js';
import { testDatabase } from '../helpers/db.js';
import { createTestApp, startTestServer, startTestWorker, userAuth } from '../helpers/stack.js';
import { insertWebhook, until } from '../worker/helpers/fixtures.js';
import { startReceiver } from '../worker/helpers/receiver.js';
import { client, failure, notification } from './http.js';

const db = await testDatabase(t);
const call = client(await startTestServer(t, db));
const core = await createTestApp(db, { id: 'oriva-core', name: 'Oriva Core', platform: true });
const buddy = await createTestApp(db, { id: 'work-buddy', name: 'Work Buddy' });
const hugo = await createTestApp(db, { id: 'hugo-ai', name: 'Hugo AI' });
const receiver = await startReceiver(t);
receiver.on('/hugo', (_req, res) => res.writeHead(500).end('down'));
await insertWebhook(db.system, buddy.appId, { url: receiver.url('/buddy'), events: ['notification.created'] });
await insertWebhook(db.system, hugo.appId, { url: receiver.url('/hugo'), events: ['notification.created'], maxRetries: 0 });

const USERS = ['ann', 'ben', 'cat', 'dan', 'eve'] as const;
type User = (typeof USERS)[number];
const auth = Object.fromEntries(await Promise.all(USERS.map(async (u) => [u, (await userAuth(u)).auth] as const))) as Record<User, Record<string, string>>;
// eve muted Work Buddy: its notifications to her are created, suppressed from her feed
await call('PUT', '/users/eve/preferences', { headers: auth.eve, json: { apps: { 'work-buddy': { muted: true } } } });

const DAY = '2026-11-20';
const at = (time: string) => new Date(`${DAY}T${time}Z`);

interface Script {
  app: { appId: string; auth: Record<string, string> };
  user: User;
  type: string;
  category: string;
  created: string;
  /** What the user does, in order, and when (UTC time of day). */
  moves?: [status: string, time: string][];
  expiresSoon?: boolean;
}

// The scripted day. Expected, Work Buddy: 09:00 created 5 (eve suppressed), delivered 4, read 3 (ann
// after 5 min, ben after 1 min — his second read does not count —, cat by clicking after 20 min),
// clicked 1, dismissed 1 (dan); 14:00 created 2, read 1 (ann after 30 s), expired 1. Hugo AI: 09:00
// created 3, read 1 (after 10 s).
const SCRIPT: Script[] = [
  { app: buddy, user: 'ann', type: 'task_assigned', category: 'task', created: '09:05:00', moves: [['read', '09:10:00']] },
  { app: buddy, user: 'ben', type: 'task_assigned', category: 'task', created: '09:05:00', moves: [['read', '09:06:00'], ['unread', '09:07:00'], ['read', '09:30:00']] },
  { app: buddy, user: 'cat', type: 'task_assigned', category: 'task', created: '09:05:00', moves: [['clicked', '09:25:00']] },
  { app: buddy, user: 'dan', type: 'task_assigned', category: 'task', created: '09:05:00', moves: [['dismissed', '09:08:00']] },
  { app: buddy, user: 'eve', type: 'task_assigned', category: 'task', created: '09:50:00' },
  { app: buddy, user: 'ann', type: 'comment', category: 'social', created: '14:00:00', moves: [['read', '14:00:30']] },
  { app: buddy, user: 'ben', type: 'comment', category: 'social', created: '14:59:59', expiresSoon: true },
  { app: hugo, user: 'ann', type: 'insight', category: 'system', created: '09:00:00', moves: [['read', '09:00:10']] },
  { app: hugo, user: 'ben', type: 'insight', category: 'system', created: '09:59:00' },
  { app: hugo, user: 'cat', type: 'insight', category: 'system', created: '09:20:00' },
];

/** Play the script through the API, then move each notification and its events to their scripted times. */
async function playScript(t: Test) {
  for (const step of SCRIPT) {
    const expires = step.expiresSoon ? { expires_at: new Date(Date.now() + 1500).toISOString() } : {};
    const created = await call('POST', `/apps/${step.app.appId}/notifications`, {
      headers: step.app.auth,
      json: notification({ user_id: step.user, notification_type: step.type, category: step.category, ...expires }),
    });
    t.equal(created.status, 201, `${step.app.appId} → ${step.user} created`);
    const id = created.body.notification_id as string;
    for (const [status] of step.moves ?? []) {
      t.equal((await call('PATCH', `/notifications/${id}`, { headers: auth[step.user], json: { status } })).status, 200, `${step.user} ${status}`);
    }
    if (step.expiresSoon) {
      await new Promise((r) => setTimeout(r, 1600));
      t.equal((await run(db.system, sqlFile('expiry/expire_overdue'), [1000])).length, 1, 'expired');
    }
    // Backdate: the notification and its created event to `created`, each later event to its move's
    // time (the expiry a minute after creation), and first_read_at along with the event that set it.
    const events = (await db.system.query<{ seq: string; event_type: string; created_at: Date }>(
      `select seq, event_type, created_at from oriva.platform_events where entity_id = $1 and event_type <> 'created' order by seq`, [id])).rows;
    const times = (step.moves ?? []).map(([, time]) => at(time));
    if (step.expiresSoon) times.push(new Date(at(step.created).getTime() + 60_000));
    t.equal(events.length, times.length, 'one event per move');
    const [state] = (await db.system.query<{ first_read_at: Date | null }>('select first_read_at from oriva.notification_state where notification_id = $1', [id])).rows;
    const firstRead = events.findIndex((e) => state?.first_read_at && e.created_at.getTime() === state.first_read_at.getTime());
    await db.system.query('update oriva.platform_notifications set created_at = $2 where id = $1', [id, at(step.created)]);
    await db.system.query(`update oriva.platform_events set created_at = $2 where entity_id = $1 and event_type = 'created'`, [id, at(step.created)]);
    for (const [i, event] of events.entries()) {
      await db.system.query('update oriva.platform_events set created_at = $2 where seq = $1', [event.seq, times[i]]);
    }
    if (firstRead >= 0) await db.system.query('update oriva.notification_state set first_read_at = $2 where notification_id = $1', [id, times[firstRead]]);
  }
}

const ZERO = { created: 0, suppressed: 0, delivered: 0, read: 0, clicked: 0, dismissed: 0, expired: 0, emails_sent: 0, emails_failed: 0, webhook_ok: 0, webhook_failed: 0, webhook_p95_ms: null, time_to_read_p50_ms: null, time_to_read_p95_ms: null };
/** The reported percentile of a duration: the upper bound of its log bin (lib/stats.ts). */
const reported = (ms: number) => binUpperMs(Math.ceil(Math.log(ms) / Math.log(1.1)));
const dayRange = `from=${DAY}T00:00:00Z&to=2026-11-21T00:00:00Z`;

t.test('the scripted day, played through the API and rolled up', async (t) => {
  await playScript(t);
  const rolled = await rollUpStats(db.system);
  t.ok(rolled.settled, 'the rollup caught up');
});

t.test('an app reads its scripted day as exact figures, hour by hour', async (t) => {
  const r = await call('GET', `/apps/work-buddy/stats?${dayRange}&interval=hour`, { headers: buddy.auth });
  t.equal(r.status, 200);
  t.equal(r.body.app_id, 'work-buddy');
  t.equal(r.body.buckets.length, 24, 'every hour of the day, zeros included');
  t.equal(r.body.from, `${DAY}T00:00:00.000Z`);
  t.ok(r.body.rolled_up_to, 'says when the rollup last ran');
  const byHour = (h: number) => r.body.buckets[h];
  t.same(byHour(9), {
    ...ZERO, start: `${DAY}T09:00:00.000Z`, created: 5, suppressed: 1, delivered: 4, read: 3, clicked: 1, dismissed: 1,
    time_to_read_p50_ms: reported(300_000), time_to_read_p95_ms: reported(1_200_000),
  }, '09:00: 5 created, eve suppressed, 3 first reads (ann 5 min, ben 1 min, cat 20 min by clicking), a click, a dismissal');
  t.same(byHour(14), { ...ZERO, start: `${DAY}T14:00:00.000Z`, created: 2, delivered: 2, read: 1, expired: 1, time_to_read_p50_ms: reported(30_000), time_to_read_p95_ms: reported(30_000) });
  for (const h of [0, 8, 10, 13, 15, 23]) t.same(byHour(h), { ...ZERO, start: r.body.buckets[h].start }, `${h}:00 is all zeros`);
  t.same(r.body.totals, {
    ...ZERO, created: 7, suppressed: 1, delivered: 6, read: 4, clicked: 1, dismissed: 1, expired: 1,
    time_to_read_p50_ms: reported(60_000), time_to_read_p95_ms: reported(1_200_000),
  }, 'the day: reads after 30 s, 1 min, 5 min, 20 min');
  t.same(r.body.rates, { viewed: 0.6667, acted: 0.1667, delivery_failures: null, webhook_success: null }, 'viewed 4/6, acted 1/6; no attempts that day');
  t.ok(reported(300_000) >= 300_000 && reported(300_000) <= 330_000, 'a reported percentile is within 10% above the true value');
});

t.test('a day interval and the type and category filters', async (t) => {
  const day = await call('GET', `/apps/work-buddy/stats?${dayRange}&interval=day`, { headers: buddy.auth });
  t.equal(day.body.buckets.length, 1);
  t.same(day.body.buckets[0], { ...day.body.totals, start: `${DAY}T00:00:00.000Z` }, 'one day bucket = the totals');
  const comments = await call('GET', `/apps/work-buddy/stats?${dayRange}&interval=day&notification_type=comment`, { headers: buddy.auth });
  t.same(comments.body.totals, { ...ZERO, created: 2, delivered: 2, read: 1, expired: 1, time_to_read_p50_ms: reported(30_000), time_to_read_p95_ms: reported(30_000) });
  const tasks = await call('GET', `/apps/work-buddy/stats?${dayRange}&interval=day&category=task`, { headers: buddy.auth });
  t.same(tasks.body.totals, { ...ZERO, created: 5, suppressed: 1, delivered: 4, read: 3, clicked: 1, dismissed: 1, time_to_read_p50_ms: reported(300_000), time_to_read_p95_ms: reported(1_200_000) });
  const none = await call('GET', `/apps/work-buddy/stats?${dayRange}&interval=day&category=security`, { headers: buddy.auth });
  t.same(none.body.totals, ZERO);
  t.same(none.body.rates, { viewed: null, acted: null, delivery_failures: null, webhook_success: null }, 'no denominator, no rate');
});

t.test('rolling up again adds nothing; new events are added once', async (t) => {
  const before = (await call('GET', `/apps/hugo-ai/stats?${dayRange}&interval=day`, { headers: hugo.auth })).body.totals;
  t.same(before, { ...ZERO, created: 3, delivered: 3, read: 1, time_to_read_p50_ms: reported(10_000), time_to_read_p95_ms: reported(10_000) });
  await rollUpStats(db.system);
  await rollUpStats(db.system);
  t.same((await call('GET', `/apps/hugo-ai/stats?${dayRange}&interval=day`, { headers: hugo.auth })).body.totals, before, 'unchanged');
});

t.test('webhook attempts count per app in the hour of the attempt, with their latency', async (t) => {
  await startTestWorker(t, db, { WEBHOOK_ALLOWLIST: '127.0.0.1' });
  await receiver.waitFor('/buddy', 7);
  await until(async () => (await db.system.query(`select count(*)::int as n from oriva.webhook_delivery_log`)).rows[0].n === 10, 15_000, '10 attempts recorded');
  const hour = new Date(Math.floor(Date.now() / 3_600_000) * 3_600_000);
  const range = `from=${hour.toISOString()}&to=${new Date(hour.getTime() + 3_600_000).toISOString()}`;
  const buddyNow = await call('GET', `/apps/work-buddy/stats?${range}`, { headers: buddy.auth });
  t.equal(buddyNow.body.totals.webhook_ok, 7);
  t.equal(buddyNow.body.totals.webhook_failed, 0);
  t.type(buddyNow.body.totals.webhook_p95_ms, 'number', 'a p95 latency');
  t.equal(buddyNow.body.totals.created, 0, 'the notifications count in their (scripted) hours, not now');
  t.same(buddyNow.body.rates, { viewed: null, acted: null, delivery_failures: 0, webhook_success: 1 });
  const hugoNow = await call('GET', `/apps/hugo-ai/stats?${range}`, { headers: hugo.auth });
  t.same([hugoNow.body.totals.webhook_ok, hugoNow.body.totals.webhook_failed], [0, 3]);
  t.same(hugoNow.body.rates, { viewed: null, acted: null, delivery_failures: 1, webhook_success: 0 });
});

t.test('platform apps read every app, one app, and a table per app', async (t) => {
  const all = await call('GET', `/stats?${dayRange}&interval=day`, { headers: core.auth });
  t.equal(all.status, 200);
  t.equal(all.body.app_id, null);
  t.same(all.body.totals, {
    ...ZERO, created: 10, suppressed: 1, delivered: 9, read: 5, clicked: 1, dismissed: 1, expired: 1,
    time_to_read_p50_ms: reported(60_000), time_to_read_p95_ms: reported(1_200_000),
  });
  t.same(all.body.apps.map((a: { app_id: string; name: string; totals: { created: number } }) => [a.app_id, a.name, a.totals.created]),
    [['work-buddy', 'Work Buddy', 7], ['hugo-ai', 'Hugo AI', 3]], 'busiest first');
  const one = await call('GET', `/stats?${dayRange}&interval=day&app_id=hugo-ai`, { headers: core.auth });
  t.equal(one.body.app_id, 'hugo-ai');
  t.equal(one.body.totals.created, 3);
});

t.test("an app never sees another app's figures", async (t) => {
  const other = await call('GET', `/apps/work-buddy/stats?${dayRange}`, { headers: hugo.auth });
  t.equal(other.status, 403);
  t.match(other.body, failure('forbidden'));
  t.equal(other.body.error.message, 'An API key acts only for its own app');
  const platformOnly = await call('GET', `/stats?${dayRange}`, { headers: hugo.auth });
  t.equal(platformOnly.status, 403);
  t.equal(platformOnly.body.error.message, 'Platform-wide stats are for platform apps');
  const userToken = await call('GET', `/apps/work-buddy/stats?${dayRange}`, { headers: auth.ann });
  t.equal(userToken.status, 403);
  t.equal(userToken.body.error.message, 'This endpoint is for apps (API key), not user tokens');
  // Row-level security: even a statement without an app filter sees only the acting app's rows.
  const api = db.pool('oriva_api');
  for (const table of ['notification_stats_hourly', 'webhook_stats_hourly']) {
    const seen = await inTransaction(api, { appId: 'hugo-ai' }, async (c) => (await c.query(`select distinct app_id from oriva.${table}`)).rows);
    t.same(seen, [{ app_id: 'hugo-ai' }], `${table}: hugo-ai sees only its rows`);
    const platform = await inTransaction(api, { appId: 'oriva-core', platform: true }, async (c) => (await c.query(`select distinct app_id from oriva.${table} order by 1`)).rows);
    t.ok(platform.length >= 2, `${table}: a platform app sees every app's rows`);
  }
  await t.rejects(inTransaction(api, { appId: 'hugo-ai' }, (c) => c.query(`update oriva.notification_stats_hourly set created = created + 1`)), { code: '42501' }, 'apps cannot write figures');
});

t.test('bad ranges get 400 with the exact error', async (t) => {
  const cases: [string, string, string][] = [
    ['from after to', `from=2026-11-21T00:00:00Z&to=2026-11-20T00:00:00Z`, 'from must be before to'],
    ['from equal to to', `from=2026-11-20T00:00:00Z&to=2026-11-20T00:00:00Z`, 'from must be before to'],
    ['401 hours', `from=2026-11-01T00:00:00Z&to=2026-11-17T17:00:00Z`, 'The range holds 401 hour buckets; at most 400'],
    ['401 days', `from=2025-01-01T00:00:00Z&to=2026-02-06T00:00:00Z&interval=day`, 'The range holds 401 day buckets; at most 400'],
    ['a bad interval', `interval=week`, 'query/interval must be one of hour, day'],
    ['a bad date', `from=yesterday`, 'query/from must match format "date-time"'],
    ['an unknown parameter', `${dayRange}&app=hugo-ai`, 'query/app is not a known field'],
  ];
  for (const [what, query, message] of cases) {
    const r = await call('GET', `/apps/work-buddy/stats?${query}`, { headers: buddy.auth });
    t.equal(r.status, 400, what);
    t.match(r.body, failure('validation_error'), what);
    t.equal(r.body.error.message, message, what);
  }
  t.equal((await call('GET', `/apps/work-buddy/stats?from=2026-11-01T00:00:00Z&to=2026-11-17T16:00:00Z`, { headers: buddy.auth })).body.buckets.length, 400, '400 buckets are allowed');
});
