// The client's live feed (issue 18, item 2) against the real gateway and Postgres, through a proxy
// on loopback that can refuse WebSocket upgrades (as a corporate proxy does) while passing plain HTTP:
// a Node client receives live events in order; the gateway restarted mid-stream → it resumes with no
// loss or duplicate; upgrades refused → it falls back to long-polling within 5 s and misses nothing,
// then returns to the WebSocket when upgrades pass again; a gap reaches onGap; the token is refreshed
// in band before it expires.
import t from 'tap';
import WS from 'ws';
import { FeedStore, subscribe, type FeedPage, type LiveEvent, type LiveGap, type LiveStatus, type WebSocketConstructor } from '../../client/src/index.js';
import { startGateway, type GatewayHandle } from '../../gateway/gateway.js';
import { signUserToken } from '../../lib/tokens.js';
import { testDatabase } from '../helpers/db.js';
import { startUpgradeProxy } from '../helpers/upgrade-proxy.js';
import { createTestApp, TEST_JWT_SECRET, testConfig, testLogger } from '../helpers/stack.js';
import { FAST, insertEvent, released } from '../gateway/helpers.js';
import { until } from '../worker/helpers/fixtures.js';

const db = await testDatabase(t);
const app = await createTestApp(db, { id: 'work-buddy' });
const config = testConfig();
const startGw = (overrides = {}) => startGateway(config, db.url, testLogger('gateway', config), 0, { ...FAST, ...overrides });
let gw: GatewayHandle = await startGw();
t.teardown(() => gw.close());

// The proxy: HTTP requests are forwarded to the current gateway; upgrades pass unless blocked.
const proxy = await startUpgradeProxy(t, () => gw.port);
const proxyPort = proxy.port;

function client(user: string, extra: { after?: number; ttl?: number } = {}) {
  const events: LiveEvent[] = [];
  const statuses: LiveStatus[] = [];
  const gaps: LiveGap[] = [];
  const counts: number[] = [];
  let tokens = 0;
  const sub = subscribe({
    url: `ws://127.0.0.1:${proxyPort}`,
    getToken: () => {
      tokens += 1;
      return signUserToken(TEST_JWT_SECRET, user, extra.ttl ?? 3600);
    },
    after: extra.after ?? null,
    WebSocket: WS as unknown as WebSocketConstructor,
    onEvent: (e) => events.push(e),
    onCounts: (n) => counts.push(n),
    onGap: (g) => gaps.push(g),
    onStatus: (s) => statuses.push(s),
    minDelayMs: 100,
    maxDelayMs: 1000,
    fallbackAfterMs: 1500,
    probeEveryMs: 1000,
    pollWaitSeconds: 2,
  });
  t.teardown(() => sub.close());
  const seen = () => `statuses ${statuses.join(' → ') || 'none'}; ${events.length} events, ${gaps.length} gaps`;
  /** until(), whose timeout says what this client went through. */
  const waitFor = (probe: () => boolean, timeoutMs: number, what: string) => until(async () => probe(), timeoutMs, () => `${what} (${seen()})`);
  return { sub, events, statuses, gaps, counts, waitFor, tokens: () => tokens, seqs: () => events.map((e) => e.seq) };
}
const publish = async (user: string, n: number) => {
  const seqs: number[] = [];
  for (let i = 0; i < n; i++) seqs.push(await insertEvent(db.system, { appId: app.appId, userId: user, entityId: `e${i}` }));
  return seqs;
};

t.test('a Node client receives live events in order', async (t) => {
  const c = client('ann');
  await c.waitFor(() => c.sub.status() === 'live', 5000, 'live');
  const sent = await publish('ann', 5);
  await c.waitFor(() => c.events.length === 5, 5000, '5 events');
  t.same(c.seqs(), sent);
  t.equal(c.sub.lastSeq(), sent.at(-1));
  c.sub.close();
  t.equal(c.sub.status(), 'closed');
});

t.test('the gateway restarted mid-stream: resumes with no loss or duplicate', async (t) => {
  const c = client('ben');
  await c.waitFor(() => c.sub.status() === 'live', 5000, 'live');
  const before = await publish('ben', 3);
  await c.waitFor(() => c.events.length === 3, 5000, 'the first 3');
  await gw.close();
  const during = await publish('ben', 3); // committed while no gateway runs
  gw = await startGw();
  const after = await publish('ben', 2);
  await c.waitFor(() => c.events.length === 8, 10_000, 'all 8');
  t.same(c.seqs(), [...before, ...during, ...after], 'every event once, in seq order');
  t.ok(c.statuses.includes('reconnecting'));
  t.equal(c.sub.status(), 'live');
  c.sub.close();
});

t.test('upgrades refused: long-polling within 5 s, nothing missed; back to the WebSocket when they pass', async (t) => {
  proxy.blockUpgrades(true);
  const c = client('cat');
  const started = Date.now();
  await c.waitFor(() => c.sub.status() === 'polling', 5000, 'polling');
  t.ok(Date.now() - started < 5000, `fell back after ${Date.now() - started} ms`);
  const polled = await publish('cat', 4);
  await c.waitFor(() => c.events.length === 4, 5000, '4 events over long-poll');
  proxy.blockUpgrades(false);
  await c.waitFor(() => c.sub.status() === 'live', 5000, 'back on the WebSocket');
  const streamed = await publish('cat', 3);
  await c.waitFor(() => c.events.length === 7, 5000, '3 more');
  t.same(c.seqs(), [...polled, ...streamed], 'every event once, in order, across both transports');
  t.ok(c.statuses.indexOf('polling') < c.statuses.lastIndexOf('live'));
  await new Promise((r) => setTimeout(r, 2500)); // longer than probeEveryMs: probes stopped once live
  const { rows } = await db.system.query<{ n: number }>(`select count(*)::int as n from oriva.gateway_connections where user_id = 'cat'`);
  t.equal(rows[0]!.n, 1, 'one WebSocket connection, no probe left open beside it');
  c.sub.close();
});

t.test('a resume point beyond the replay limit reaches onGap, then it continues live', async (t) => {
  await gw.close();
  gw = await startGw({ replayLimit: 2 });
  const from = await insertEvent(db.system, { appId: app.appId, userId: 'dan' });
  const published = await publish('dan', 4);
  // the gateway resumes up to what it has released: until it has the 4 events, a resume from `from`
  // replays the 2 or fewer it has (no gap) and the rest arrive live
  await released(gw, published.at(-1)!);
  const c = client('dan', { after: from });
  await c.waitFor(() => c.gaps.length === 1, 5000, 'a gap');
  t.match(c.gaps[0], { type: 'gap', after: from, reason: 'too_far_behind' });
  await c.waitFor(() => c.sub.status() === 'live', 5000, 'live');
  const next = await publish('dan', 1);
  await c.waitFor(() => c.events.length === 1, 5000, 'the next event');
  t.same(c.seqs(), next, 'live from the gap\'s resume_seq: nothing replayed past the limit');
  c.sub.close();
});

t.test('the token is refreshed in band before it expires', async (t) => {
  const c = client('eve', { ttl: 3 });
  await c.waitFor(() => c.sub.status() === 'live', 5000, 'live');
  await new Promise((r) => setTimeout(r, 4000)); // past the first token's expiry
  t.equal(c.sub.status(), 'live', 'still live');
  t.ok(c.tokens() >= 2, `getToken called ${c.tokens()} times`);
  t.notOk(c.statuses.includes('reconnecting'), 'the connection was kept, not reopened');
  const next = await publish('eve', 1);
  await c.waitFor(() => c.events.length === 1, 5000, 'an event after the old expiry');
  t.same(c.seqs(), next);
  c.sub.close();
});

t.test('FeedStore.connect applies live events to the store (with or without an onEvent of its own)', async (t) => {
  const known = { id: 'n-0', app_id: app.appId, app_name: 'Work Buddy', app_icon: null, title: 'Earlier', body: 'b', status: 'read', priority: 'normal', created_at: '2030-01-01T00:00:00.000Z' };
  const store = new FeedStore({ load: () => Promise.resolve({ success: true, notifications: [known], unread_count: 0, pagination: { total: 1 } } as unknown as FeedPage) });
  const live = store.connect({ url: `ws://127.0.0.1:${proxyPort}`, getToken: () => signUserToken(TEST_JWT_SECRET, 'fay', 3600), WebSocket: WS as unknown as WebSocketConstructor });
  t.teardown(() => live.close());
  await until(async () => live.status() === 'live' && store.getSnapshot().loaded, 5000, 'live and loaded');
  const notification = { id: 'n-1', title: 'Live one', body: 'b', priority: 'high', created_at: '2030-01-02T00:00:00.000Z' };
  await insertEvent(db.system, { appId: app.appId, userId: 'fay', category: 'notification', type: 'created', entityId: 'n-1', data: { notification } });
  await until(async () => store.getSnapshot().notifications.length === 2, 5000, 'the created notification in the store');
  t.match(store.getSnapshot().notifications, [{ id: 'n-1', title: 'Live one', app_name: 'Work Buddy', status: 'unread' }, { id: 'n-0' }]);
});
