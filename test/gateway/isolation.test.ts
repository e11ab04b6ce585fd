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
import { Client, createNotification, gateway, insertEvent } from './helpers.js';

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
