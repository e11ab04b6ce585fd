// Rate limits (DESIGN §6) hold across two server processes sharing one Postgres.
import t from 'tap';
import { testDatabase } from '../helpers/db.js';
import { createTestApp, startTestServer, userAuth } from '../helpers/stack.js';
import { client, failure, notification, rowCounts } from './http.js';

const db = await testDatabase(t);
const limits = { RATE_LIMIT_NOTIFICATIONS: '3', RATE_LIMIT_EVENTS: '2', RATE_LIMIT_QUERIES: '2', RATE_LIMIT_WEBHOOKS: '2' };
const one = client(await startTestServer(t, db, limits));
const two = client(await startTestServer(t, db, limits));
const wb = await createTestApp(db, { id: 'work-buddy' });
const hugo = await createTestApp(db, { id: 'hugo-ai' });
const path = '/apps/work-buddy/notifications';

t.test('notification create: 3 per window in total over both servers, then 429 with Retry-After and headers', async (t) => {
  const statuses = [];
  for (const server of [one, two, one]) statuses.push((await server('POST', path, { headers: wb.auth, json: notification() })).status);
  t.same(statuses, [201, 201, 201]);
  const before = await rowCounts(db);
  const limited = await two('POST', path, { headers: wb.auth, json: notification() });
  t.equal(limited.status, 429);
  t.match(limited.body, failure('rate_limited'));
  t.ok(Number(limited.headers.get('retry-after')) > 0, 'Retry-After in seconds');
  t.equal(limited.headers.get('x-ratelimit-limit'), '3');
  t.equal(limited.headers.get('x-ratelimit-remaining'), '0');
  t.ok(Number(limited.headers.get('x-ratelimit-reset')) > Date.now() / 1000, 'reset in the future');
  t.equal((await one('POST', path, { headers: wb.auth, json: notification() })).status, 429, 'the other server agrees');
  t.same(await rowCounts(db), before, 'nothing written while limited');
  t.equal((await one('POST', '/apps/hugo-ai/notifications', { headers: hugo.auth, json: notification() })).status, 201, 'per app');
});

t.test('a batch costs one hit per item', async (t) => {
  const before = await rowCounts(db);
  const three = { notifications: [notification(), notification(), notification()] };
  const refused = await one('POST', '/apps/hugo-ai/notifications/batch', { headers: hugo.auth, json: three });
  t.equal(refused.status, 429, 'hugo has 2 of 3 left: three items do not fit');
  t.match(refused.body, failure('rate_limited'));
  t.same(await rowCounts(db), before, 'nothing written');
});

t.test('events, queries (per user) and webhook management have their own budgets', async (t) => {
  const event = { event_category: 'session', event_type: 'started', entity_type: 'session', entity_id: 's1', user_id: 'u1' };
  const ev = [];
  for (const server of [one, two, one]) ev.push((await server('POST', '/apps/work-buddy/events', { headers: wb.auth, json: event })).status);
  t.same(ev, [200, 200, 429]);
  const user = await userAuth('reader');
  const q = [];
  for (const server of [one, two, one]) q.push((await server('GET', '/users/reader/notifications', { headers: user.auth })).status);
  t.same(q, [200, 200, 429]);
  const other = await userAuth('other_reader');
  t.equal((await two('GET', '/users/other_reader/notifications', { headers: other.auth })).status, 200, 'per user');
  const wh = [];
  for (const server of [one, two, one]) wh.push((await server('GET', '/apps/work-buddy/webhooks', { headers: wb.auth })).status);
  t.same(wh, [200, 200, 429]);
});

t.test('reading the delivery log spends the query budget, not webhook management', async (t) => {
  const app = await createTestApp(db, { id: 'log-reader' });
  const separate = client(await startTestServer(t, db, { ...limits, RATE_LIMIT_QUERIES: '3', WEBHOOK_ALLOWLIST: 'hooks.example' }));
  const created = await separate('POST', '/apps/log-reader/webhooks', { headers: app.auth, json: { webhook_url: 'https://hooks.example/in', subscribed_events: ['*'] } });
  t.equal(created.status, 201, 'management: 1 of 2');
  const deliveries = `/apps/log-reader/webhooks/${created.body.webhook_id}/deliveries`;
  const reads = [];
  for (let i = 0; i < 4; i++) reads.push((await separate('GET', deliveries, { headers: app.auth })).status);
  t.same(reads, [200, 200, 200, 429], 'three reads: the query budget');
  const limited = await separate('GET', deliveries, { headers: app.auth });
  t.match(limited.body, { success: false, error: { code: 'rate_limited', message: 'Rate limit exceeded (3 queries requests per 15 min)' } });
  t.equal(limited.headers.get('x-ratelimit-limit'), '3');
  t.equal((await separate('GET', '/apps/log-reader/webhooks', { headers: app.auth })).status, 200, 'management: 2 of 2, untouched by the reads');
  t.equal((await separate('GET', '/apps/log-reader/webhooks', { headers: app.auth })).status, 429, 'management: its own budget of 2');
});

t.test('a new window starts once the old one ends', async (t) => {
  const short = client(await startTestServer(t, db, { RATE_LIMIT_EVENTS: '1', RATE_LIMIT_WINDOW_MS: '1000' }));
  const event = { event_category: 'session', event_type: 'started', entity_type: 'session', entity_id: 's1', user_id: 'u1' };
  t.equal((await short('POST', '/apps/hugo-ai/events', { headers: hugo.auth, json: event })).status, 200);
  t.equal((await short('POST', '/apps/hugo-ai/events', { headers: hugo.auth, json: event })).status, 429);
  await new Promise((resolve) => setTimeout(resolve, 1100));
  t.equal((await short('POST', '/apps/hugo-ai/events', { headers: hugo.auth, json: event })).status, 200);
});

t.test('a concurrent burst: takes of one key share a call, and exactly the budget goes through', async (t) => {
  const burst = await createTestApp(db, { id: 'burst-app' });
  const before = await rowCounts(db);
  const answers = await Promise.all(Array.from({ length: 8 }, (_, i) =>
    (i % 2 ? one : two)('POST', '/apps/burst-app/notifications', { headers: burst.auth, json: notification() })));
  t.same(answers.map((a) => a.status).sort(), [201, 201, 201, 429, 429, 429, 429, 429], '3 created, 5 limited');
  t.same(answers.filter((a) => a.status === 201).map((a) => a.headers.get('x-ratelimit-remaining')).sort(), ['0', '1', '2'],
    'each created one counted its own hit: remaining 2, 1, 0 as if one after another');
  t.equal((await rowCounts(db)).notifications - before.notifications, 3);
});

t.test('a concurrent burst within the budget: all through, each with its own remaining', async (t) => {
  const fits = await createTestApp(db, { id: 'fits-app' });
  const answers = await Promise.all(Array.from({ length: 3 }, () => one('POST', '/apps/fits-app/notifications', { headers: fits.auth, json: notification() })));
  t.same(answers.map((a) => a.status), [201, 201, 201]);
  t.same(answers.map((a) => a.headers.get('x-ratelimit-remaining')).sort(), ['0', '1', '2']);
});

t.test('a create that fails before it joins a shared transaction is charged alone: its own error while hits are left, then 429', async (t) => {
  const app = await createTestApp(db, { id: 'invalid-app' });
  const post = (json: unknown) => one('POST', '/apps/invalid-app/notifications', { headers: app.auth, json });
  const invalid = { ...notification(), title: undefined };
  const answers = [];
  for (const json of [invalid, notification(), invalid]) answers.push(await post(json));
  t.same(answers.map((a) => [a.status, a.headers.get('x-ratelimit-remaining')]), [[400, '2'], [201, '1'], [400, '0']],
    'the invalid ones counted a hit each, as the valid one did');
  const before = await rowCounts(db);
  const limited = await post(invalid);
  t.equal(limited.status, 429, 'none left: 429, not the 400 its body would get');
  t.match(limited.body, failure('rate_limited'));
  t.same([limited.headers.get('x-ratelimit-limit'), limited.headers.get('x-ratelimit-remaining')], ['3', '0']);
  t.ok(Number(limited.headers.get('retry-after')) > 0);
  t.equal((await post(notification())).status, 429);
  t.same(await rowCounts(db), before, 'nothing written');

  const event = (category: string) => ({ event_category: category, event_type: 'started', entity_type: 'session', entity_id: 's1', user_id: 'u1' });
  const events = [];
  for (const category of ['notification', 'session', 'notification']) events.push(await two('POST', '/apps/invalid-app/events', { headers: app.auth, json: event(category) }));
  t.same(events.map((a) => [a.status, a.headers.get('x-ratelimit-remaining') ?? a.body.error?.code]), [[400, '1'], [200, '0'], [429, '0']],
    'events: a reserved category is refused and counted; then none left');
});
