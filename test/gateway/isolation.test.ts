// No single row and no foreign transaction stops real time: an event that cannot be serialised is sent
// without its data and the pump moves on; a transaction in another database never holds the release;
// one of ours left idle is ended by its timeout, and meanwhile the lag shows in /metrics and /healthz.
import pg from 'pg';
import t from 'tap';
import { request } from 'undici';
import { IDLE_TRANSACTION_TIMEOUT_MS } from '../../lib/db.js';
import { createDatabase, dropDatabase } from '../../lib/dev/scratch.js';
import { testDatabase } from '../helpers/db.js';
import { readRunState } from '../helpers/run-state.js';
import { createTestApp, userAuth } from '../helpers/stack.js';
import { Client, createNotification, gateway, insertEvent, released, upgradeStatus } from './helpers.js';

const db = await testDatabase(t);
const gw = await gateway(t, db.url, {}, { maxReleaseLagMs: 300 });
const app = await createTestApp(db, { id: 'work-buddy' });
const http = (path: string) => request(`${gw.url.replace(/^ws/, 'http')}${path}`);
const metric = async (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(await (await http('/metrics')).body.text())?.[1]);
const health = async () => {
  const res = await http('/healthz');
  return { status: res.statusCode, body: (await res.body.json()) as { status: string; release_lag_ms: number } };
};
/** ms from committing an event for `client`'s user to receiving it. */
const latency = async (client: Client, userId: string) => {
  const start = performance.now();
  const { seq } = await createNotification(db, app.appId, userId);
  await client.next((m) => m.type === 'event' && m.seq === seq, 10_000);
  return performance.now() - start;
};

t.test('an event nested 5,000 deep (written by SQL) goes out without its data; others keep flowing', async (t) => {
  const alice = await Client.open(t, gw, { headers: (await userAuth('alice')).auth });
  const bob = await Client.open(t, gw, { headers: (await userAuth('bob')).auth });
  const deep = `{"x":${'['.repeat(5000)}${']'.repeat(5000)}}`;
  t.throws(() => JSON.stringify(JSON.parse(deep)), RangeError, 'precondition: this row cannot be serialised recursively');
  const { rows } = await db.system.query(
    `insert into oriva.platform_events (app_id, user_id, event_category, event_type, entity_type, entity_id, event_data)
     values ($1, 'alice', 'test', 'deep', 'test', 'e1', $2::jsonb) returning seq`, [app.appId, deep]);
  const deepSeq = Number(rows[0].seq);

  const omitted = await alice.next((m) => m.type === 'event' && m.seq === deepSeq);
  t.match(omitted, { type: 'event', seq: deepSeq, app_id: 'work-buddy', event_type: 'deep', event_data: {}, event_data_omitted: 'event_data could not be serialised' });
  const ms = await latency(bob, 'bob');
  t.ok(ms < 1000, `another user's event arrives within 1 s (${ms.toFixed(0)} ms)`);
  const next = await insertEvent(db.system, { appId: app.appId, userId: 'alice' });
  t.equal((await alice.next((m) => m.type === 'event' && m.seq === next)).seq, next, 'the same user keeps receiving');
  t.equal(await metric('oriva_gateway_unserialisable_events_total'), 1, 'counted');

  // A resume over the same row sends it the same way.
  const again = await Client.open(t, gw, { headers: (await userAuth('alice')).auth, query: { after: deepSeq - 1 } });
  t.match(await again.next((m) => m.type === 'event' && m.seq === deepSeq), { event_data_omitted: 'event_data could not be serialised' });
  t.equal((await again.next((m) => m.type === 'event' && m.seq === next)).seq, next);
});

t.test('an idle transaction holding an xid in another database does not delay events', async (t) => {
  const carol = await Client.open(t, gw, { headers: (await userAuth('carol')).auth });
  const baseline = await latency(carol, 'carol');
  const { adminUrl } = readRunState();
  const otherName = `${db.name}_other`;
  const otherUrl = await createDatabase(adminUrl, otherName);
  const other = new pg.Client(otherUrl);
  await other.connect();
  t.teardown(async () => {
    await other.end().catch(() => {});
    await dropDatabase(adminUrl, otherName);
  });
  await other.query('begin');
  await other.query('select pg_current_xact_id()'); // holds an xid, older than every later fence
  const stalled = await latency(carol, 'carol');
  t.ok(stalled - baseline < 100, `extra delay ${(stalled - baseline).toFixed(1)} ms (baseline ${baseline.toFixed(1)} ms)`);
  t.equal((await health()).status, 200);
  await other.query('rollback');
});

t.test('our own idle transaction holds the release until its timeout ends it; the lag is visible meanwhile', async (t) => {
  const dave = await Client.open(t, gw, { headers: (await userAuth('dave')).auth });
  const { rows } = await db.system.query(`select setting from pg_settings where name = 'idle_in_transaction_session_timeout'`);
  t.equal(Number(rows[0].setting), IDLE_TRANSACTION_TIMEOUT_MS, 'our pools set the timeout');

  // Our login role, with a short timeout so the test need not wait a minute.
  const idle = new pg.Client({ connectionString: db.url, options: '-c idle_in_transaction_session_timeout=1500' });
  idle.on('error', () => {});
  await idle.connect();
  t.teardown(() => idle.end().catch(() => {}));
  await idle.query('begin');
  await idle.query('select pg_current_xact_id()');
  const ended = new Promise<void>((resolve) => idle.once('end', resolve));
  const start = performance.now();
  const { seq } = await createNotification(db, app.appId, 'dave');

  await new Promise((r) => setTimeout(r, 700));
  t.notOk(dave.messages.some((m) => m.seq === seq), 'held while the older transaction may still write an event');
  t.ok((await metric('oriva_gateway_release_lag_seconds')) > 0.3, 'the lag metric shows it');
  t.match(await health(), { status: 503, body: { status: 'degraded' } }, '/healthz is degraded past GATEWAY_MAX_RELEASE_LAG_MS');

  await ended;
  await dave.next((m) => m.type === 'event' && m.seq === seq, 5000);
  const held = performance.now() - start;
  t.ok(held > 1000 && held < 4000, `released once the timeout ended the transaction (${held.toFixed(0)} ms)`);
  t.equal(await metric('oriva_gateway_release_lag_seconds'), 0);
  t.match(await health(), { status: 200, body: { status: 'ok', release_lag_ms: 0 } });
});

t.test('app connections are capped per app across instances (WS_MAX_CONNECTIONS_PER_APP): 429 beyond; closing one makes room', async (t) => {
  const env = { WS_MAX_CONNECTIONS_PER_APP: '3' };
  const one = await gateway(t, db.url, env);
  const two = await gateway(t, db.url, env);
  const busy = await createTestApp(db, { id: 'busy-app' });
  const open = [await Client.open(t, one, { headers: busy.auth }), await Client.open(t, one, { headers: busy.auth }), await Client.open(t, two, { headers: busy.auth })];
  for (const gw of [one, two]) {
    const refused = await upgradeStatus(gw, busy.auth);
    t.equal(refused.status, 429);
    t.same(JSON.parse(refused.body), { success: false, error: { code: 'too_many_connections', message: 'At most 3 connections per app' } });
  }
  t.equal((await upgradeStatus(one, app.auth)).status, 101, 'another app is not affected');
  await open[0]!.close();
  let status = 0;
  for (let i = 0; i < 50 && status !== 101; i++) {
    status = (await upgradeStatus(two, busy.auth)).status;
    if (status !== 101) await new Promise((r) => setTimeout(r, 20));
  }
  t.equal(status, 101, 'room again once one closed');
});

t.test('after= beyond the newest seq is refused at the upgrade (400) and in a resume message (error frame)', async (t) => {
  const newest = await insertEvent(db.system, { appId: app.appId, userId: 'frank' });
  const { auth } = await userAuth('frank');
  const beyond = newest + 1000;
  const refused = await upgradeStatus(gw, auth, { after: String(beyond) });
  t.equal(refused.status, 400);
  t.same(JSON.parse(refused.body), { success: false, error: { code: 'bad_query', message: `after=${beyond} is beyond the newest event (seq ${newest}): resume from a seq you received` } });
  t.equal((await upgradeStatus(gw, auth, { after: String(newest) })).status, 101, 'the newest seq itself is fine');

  const client = await Client.open(t, gw, { headers: auth });
  client.send({ type: 'resume', after: beyond });
  t.same(await client.next((m) => m.type === 'error'), { type: 'error', code: 'bad_resume', message: `after=${beyond} is beyond the newest event (seq ${newest}): resume from a seq you received` });
  const next = await insertEvent(db.system, { appId: app.appId, userId: 'frank' });
  t.equal((await client.next((m) => m.type === 'event' && m.seq === next)).seq, next, 'the connection stays live');
});

t.test('a fast reader resuming 10,000 events (far more than the backpressure limit) is never closed', async (t) => {
  const start = await insertEvent(db.system, { appId: app.appId, userId: 'grace' });
  const { rows } = await db.system.query(
    `with added as (
       insert into oriva.platform_events (app_id, user_id, event_category, event_type, entity_type, entity_id, event_data)
       select $1, 'grace', 'test', 'bulk', 'test', 'e' || i, jsonb_build_object('i', i, 'padding', repeat('x', 400))
       from generate_series(1, 10000) i returning seq)
     select max(seq) as last from added`, [app.appId]);
  await released(gw, Number(rows[0].last), 10_000); // all of it is a replay, none of it live
  const { auth } = await userAuth('grace');
  const reader = await Client.open(t, gw, { headers: auth, query: { after: start } });
  const events = reader.events();
  t.equal(events.length, 10_000, `every event before ready (${JSON.stringify(reader.messages.filter((m) => m.type !== 'event'))})`);
  t.same([events[0]!.event_data, events[9999]!.event_data].map((d) => (d as { i: number }).i), [1, 10_000], 'in order');
  t.ok(events.every((e, i) => i === 0 || (e.seq as number) > (events[i - 1]!.seq as number)), 'seq increasing');
  const live = await insertEvent(db.system, { appId: app.appId, userId: 'grace' });
  t.equal((await reader.next((m) => m.type === 'event' && m.seq === live)).seq, live, 'and live afterwards, still open');
});

t.test('under steady traffic the release lag stays about one round, it does not accumulate', async (t) => {
  let worst = 0;
  const until = Date.now() + 1500;
  while (Date.now() < until) {
    await insertEvent(db.system, { appId: app.appId, userId: 'steady' });
    worst = Math.max(worst, await metric('oriva_gateway_release_lag_seconds'));
    await new Promise((r) => setTimeout(r, 10));
  }
  t.ok(worst < 0.3, `worst sampled lag ${(worst * 1000).toFixed(1)} ms over 1.5 s of events`);
  t.equal((await health()).status, 200);
});
