// Contract tests: POST and GET /apps/:appId/events.
import t from 'tap';
import { testDatabase } from '../helpers/db.js';
import { createTestApp, startTestServer, userAuth } from '../helpers/stack.js';
import { client, failure, rowCounts } from './http.js';

const db = await testDatabase(t);
const server = await startTestServer(t, db);
const call = client(server);
const wb = await createTestApp(db, { id: 'work-buddy' });
const hugo = await createTestApp(db, { id: 'hugo-ai' });
const user = await userAuth('user_456');

const event = (overrides: Record<string, unknown> = {}) => ({
  event_category: 'session', event_type: 'started', entity_type: 'session', entity_id: 'session_789', user_id: 'user_456',
  event_data: { minutes: 30 }, ...overrides,
});

t.test('POST: 200 {success, event_id, seq, timestamp}; stored with event_data.source', async (t) => {
  const res = await call('POST', '/apps/work-buddy/events', { headers: { ...wb.auth, 'user-agent': 'wb/1.0' }, json: event() });
  t.equal(res.status, 200);
  t.match(res.body, { success: true, event_id: /^[0-9a-f-]{36}$/, seq: Number, timestamp: String });
  const { rows } = await db.system.query(`select * from oriva.platform_events where id = $1`, [res.body.event_id]);
  t.match(rows[0], { app_id: 'work-buddy', event_category: 'session', event_type: 'started', user_agent: 'wb/1.0', event_data: { minutes: 30, source: 'work-buddy' } });
});

t.test('POST: each validation error → 400 naming the field, nothing written', async (t) => {
  const before = await rowCounts(db);
  for (const [override, field] of [
    [{ event_category: 'Bad Category' }, 'body/event_category'], [{ event_type: '' }, 'body/event_type'], [{ event_category: undefined }, 'body/event_category'],
    [{ entity_id: '' }, 'body/entity_id'], [{ entity_type: 'x'.repeat(65) }, 'body/entity_type'], [{ user_id: '' }, 'body/user_id'],
    [{ event_data: 'text' }, 'body/event_data'], [{ extra: true }, 'body/extra'],
  ] as const) {
    const res = await call('POST', '/apps/work-buddy/events', { headers: wb.auth, json: event(override) });
    t.equal(res.status, 400, field);
    t.match(res.body, failure('validation_error'));
    t.ok(res.body.error.details.some((d: { path: string }) => d.path === field), field);
  }
  const nul = await call('POST', '/apps/work-buddy/events', { headers: wb.auth, json: event({ event_data: { text: 'a\u0000b' } }) });
  t.equal(nul.status, 400, 'a NUL inside event_data is refused by Postgres, answered as 400');
  t.match(nul.body, failure('invalid_value'));
  t.equal((await call('POST', '/apps/work-buddy/events', { json: event() })).status, 401);
  t.equal((await call('POST', '/apps/work-buddy/events', { headers: hugo.auth, json: event() })).status, 403);
  t.equal((await call('POST', '/apps/work-buddy/events', { headers: user.auth, json: event() })).status, 403, 'a user token is not an app');
  t.equal((await call('POST', '/apps/work-buddy/events', { headers: { ...wb.auth, 'content-type': 'text/csv' }, raw: 'a,b' })).status, 415);
  t.equal((await call('POST', '/apps/work-buddy/events', { headers: wb.auth, json: event({ event_data: { x: 'y'.repeat(70_000) } }) })).status, 413);
  t.same(await rowCounts(db), before);
});

t.test('POST: Idempotency-Key replays and 422s', async (t) => {
  const headers = { ...wb.auth, 'idempotency-key': 'evt-1' };
  const first = await call('POST', '/apps/work-buddy/events', { headers, json: event() });
  const again = await call('POST', '/apps/work-buddy/events', { headers, json: event() });
  t.same(again.body, first.body);
  const other = await call('POST', '/apps/work-buddy/events', { headers, json: event({ entity_id: 'other' }) });
  t.equal(other.status, 422);
  t.match(other.body, failure('idempotency_key_reused'));
});

t.test('GET: own events only, newest first, filters, limit/offset and cursor', async (t) => {
  for (let i = 0; i < 5; i++) {
    await call('POST', '/apps/work-buddy/events', { headers: wb.auth, json: event({ event_type: i % 2 ? 'ended' : 'started', entity_id: `s-${i}`, user_id: i < 2 ? 'user_a' : 'user_b' }) });
  }
  await call('POST', '/apps/hugo-ai/events', { headers: hugo.auth, json: event({ entity_id: 'hugo-secret' }) });
  const all = await call('GET', '/apps/work-buddy/events?limit=500', { headers: wb.auth });
  t.equal(all.status, 200);
  t.ok(all.body.events.every((e: { app_id: string }) => e.app_id === 'work-buddy'), 'never another app’s events');
  const seqs = all.body.events.map((e: { seq: number }) => e.seq);
  t.same(seqs, [...seqs].sort((a, b) => b - a), 'newest first');
  t.match(all.body.events[0], { id: String, event_id: String, seq: Number, event_category: 'session', entity_id: 's-4', timestamp: String, event_data: Object });
  const ended = await call('GET', '/apps/work-buddy/events?event_type=ended', { headers: wb.auth });
  t.same(ended.body.events.map((e: { entity_id: string }) => e.entity_id), ['s-3', 's-1']);
  const userA = await call('GET', '/apps/work-buddy/events?user_id=user_a&event_category=session', { headers: wb.auth });
  t.equal(userA.body.events.length, 2);
  const entity = await call('GET', '/apps/work-buddy/events?entity_id=s-2', { headers: wb.auth });
  t.equal(entity.body.events.length, 1);
  const future = await call('GET', `/apps/work-buddy/events?start_date=${encodeURIComponent(new Date(Date.now() + 3600_000).toISOString())}`, { headers: wb.auth });
  t.equal(future.body.events.length, 0, 'date range');
  const past = await call('GET', `/apps/work-buddy/events?end_date=2000-01-01T00:00:00Z`, { headers: wb.auth });
  t.equal(past.body.events.length, 0);
  const page1 = await call('GET', '/apps/work-buddy/events?limit=2', { headers: wb.auth });
  t.match(page1.body.pagination, { limit: 2, offset: 0, has_more: true, next_cursor: String });
  const page2 = await call('GET', `/apps/work-buddy/events?limit=2&cursor=${page1.body.pagination.next_cursor}`, { headers: wb.auth });
  const byOffset = await call('GET', '/apps/work-buddy/events?limit=2&offset=2', { headers: wb.auth });
  t.same(page2.body.events.map((e: { seq: number }) => e.seq), byOffset.body.events.map((e: { seq: number }) => e.seq));
  t.same(page2.body.events.map((e: { seq: number }) => e.seq), seqs.slice(2, 4));
});

t.test('GET: bad queries → 400; 401; another app’s path → 403', async (t) => {
  for (const query of ['?limit=501', '?offset=x', '?start_date=yesterday', '?event_category=A B', '?cursor=%%%', '?nope=1']) {
    const res = await call('GET', `/apps/work-buddy/events${query}`, { headers: wb.auth });
    t.equal(res.status, 400, query);
    t.match(res.body, failure('validation_error'));
  }
  t.equal((await call('GET', '/apps/work-buddy/events')).status, 401);
  t.equal((await call('GET', '/apps/work-buddy/events', { headers: hugo.auth })).status, 403);
});

t.test('unknown endpoints and methods answer in the envelope', async (t) => {
  const missing = await call('GET', '/nothing-here', { headers: wb.auth });
  t.equal(missing.status, 404);
  t.match(missing.body, failure('not_found'));
  const method = await call('PUT', '/apps/work-buddy/events', { headers: wb.auth, json: {} });
  t.equal(method.status, 405);
  t.match(method.body, { success: false, error: { code: String } });
});
