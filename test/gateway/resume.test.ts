// Resume: after a client disconnect, after a gateway restart, across transactions that commit out
// of seq order, and the `gap` message when the resume point cannot be replayed.
import pg from 'pg';
import t from 'tap';
import { CLOSE } from '../../gateway/protocol.js';
import { testDatabase } from '../helpers/db.js';
import { createTestApp, userAuth } from '../helpers/stack.js';
import { Client, gateway, insertEvent, released } from './helpers.js';

const db = await testDatabase(t);
const app = await createTestApp(db, { id: 'work-buddy' });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function publish(userId: string, n: number): Promise<number[]> {
  const seqs: number[] = [];
  for (let i = 0; i < n; i++) seqs.push(await insertEvent(db.system, { appId: app.appId, userId, entityId: `e${i}` }));
  return seqs;
}

t.test('after a client disconnect: what was missed, in order, then live, no duplicates', async (t) => {
  const gw = await gateway(t, db.url);
  const { auth } = await userAuth('alice');
  const first = await Client.open(t, gw, { headers: auth });
  const before = await publish('alice', 3);
  await first.eventCount(3);
  await first.close();
  const missed = await publish('alice', 4);
  await released(gw, (await publish('bob', 2)).at(-1)!); // not Alice's
  const again = await Client.open(t, gw, { headers: auth, query: { after: first.seqs().at(-1)! } });
  t.same(again.seqs(), missed, 'the missed events arrive before ready');
  const ready = again.messages.find((m) => m.type === 'ready')!;
  t.equal(ready.seq, gw.hwm(), 'ready carries the cursor the stream is live from');
  const live = await publish('alice', 2);
  await again.eventCount(6);
  t.same(again.seqs(), [...missed, ...live]);
  t.same([...first.seqs(), ...again.seqs()], [...before, ...missed, ...live], 'nothing lost, nothing twice, in order');
});

t.test('a resume message replays from that seq on an open connection', async (t) => {
  const gw = await gateway(t, db.url);
  const { auth } = await userAuth('carol');
  const seqs = await publish('carol', 3);
  const client = await Client.open(t, gw, { headers: auth });
  client.send({ type: 'subscribe', events: ['test.*'] });
  await client.next((m) => m.type === 'subscribed');
  client.send({ type: 'resume', after: seqs[0] });
  await client.eventCount(2);
  t.same(client.seqs(), seqs.slice(1));
  t.equal(client.messages.filter((m) => m.type === 'ready').length, 2, 'a second ready ends the replay');
});

t.test('after a gateway restart', async (t) => {
  const gw1 = await gateway(t, db.url);
  const { auth } = await userAuth('dave');
  const client = await Client.open(t, gw1, { headers: auth });
  const before = await publish('dave', 2);
  await client.eventCount(2);
  const closing = client.closed;
  await gw1.close();
  t.equal((await closing).code, CLOSE.goingAway, 'shutdown closes with 1001');
  const during = await publish('dave', 3); // no gateway running
  const gw2 = await gateway(t, db.url);
  const after = await publish('dave', 1);
  const resumed = await Client.open(t, gw2, { headers: auth, query: { after: client.seqs().at(-1)! } });
  await resumed.eventCount(4);
  t.same([...client.seqs(), ...resumed.seqs()], [...before, ...during, ...after]);
});

t.test('transactions committing out of seq order: seq 11 is held until seq 10 is final', async (t) => {
  const gw = await gateway(t, db.url);
  const { auth } = await userAuth('erin');
  const watcher = await Client.open(t, gw, { headers: auth });
  const a = new pg.Client({ connectionString: db.url });
  const b = new pg.Client({ connectionString: db.url });
  await a.connect();
  await b.connect();
  t.teardown(() => Promise.all([a.end(), b.end()]));

  await a.query('begin');
  const seqA = await insertEvent(a, { appId: app.appId, userId: 'erin', entityId: 'A' }); // "seq 10"
  const seqB = await insertEvent(b, { appId: app.appId, userId: 'erin', entityId: 'B' }); // "seq 11", committed
  t.ok(seqB > seqA);
  await sleep(300);
  t.same(watcher.seqs(), [], 'B is committed but not released while A (a lower seq) may still commit');
  t.ok(gw.hwm() < seqA, 'the high-water mark stays below A');
  // A client resuming from an old cursor right now gets nothing past the mark either.
  const early = await Client.open(t, gw, { headers: auth, query: { after: seqA - 1 } });
  t.same(early.seqs(), []);

  await a.query('commit');
  await watcher.eventCount(2);
  t.same(watcher.seqs(), [seqA, seqB], 'both, in seq order');
  await early.eventCount(2);
  t.same(early.seqs(), [seqA, seqB]);
  // Whoever saw B has seen A: resuming after B replays nothing and loses nothing.
  const later = await Client.open(t, gw, { headers: auth, query: { after: seqB } });
  const next = await insertEvent(db.system, { appId: app.appId, userId: 'erin' });
  await later.eventCount(1);
  t.same(later.seqs(), [next]);
});

t.test('a rolled-back lower seq releases the events behind it', async (t) => {
  const gw = await gateway(t, db.url);
  const { auth } = await userAuth('frank');
  const watcher = await Client.open(t, gw, { headers: auth });
  const a = new pg.Client({ connectionString: db.url });
  await a.connect();
  t.teardown(() => a.end());
  await a.query('begin');
  await insertEvent(a, { appId: app.appId, userId: 'frank', entityId: 'doomed' });
  const committed = await insertEvent(db.system, { appId: app.appId, userId: 'frank' });
  await sleep(200);
  t.same(watcher.seqs(), []);
  await a.query('rollback');
  await watcher.eventCount(1);
  t.same(watcher.seqs(), [committed]);
});

t.test('an event whose insert is its transaction first write still gets a seq after its xid', async (t) => {
  const { rows } = await db.system.query<{ ok: boolean }>(`
    with e as (
      insert into oriva.platform_events (app_id, user_id, event_category, event_type, entity_type, entity_id)
      values ('work-buddy', 'gina', 'test', 'happened', 'test', 'x') returning seq, tx_id)
    select e.tx_id = pg_current_xact_id() as ok from e`);
  t.same(rows, [{ ok: true }], 'tx_id is the inserting transaction');
});

t.test('a resume point older than the live table gets a gap message, then live events', async (t) => {
  const gw = await gateway(t, db.url);
  const { auth } = await userAuth('hank');
  const old = await publish('hank', 3);
  await db.system.query(`
    with moved as (delete from oriva.platform_events where seq = any($1) returning *)
    insert into oriva.platform_events_archive
      (id, seq, tx_id, app_id, user_id, event_category, event_type, entity_type, entity_id, event_data, ip_address, user_agent, created_at)
    select id, seq, tx_id, app_id, user_id, event_category, event_type, entity_type, entity_id, event_data, ip_address, user_agent, created_at
      from moved`, [old.slice(0, 2)]);
  await released(gw, old[2]!);
  const client = await Client.open(t, gw, { headers: auth, query: { after: old[0]! - 1 } });
  const gap = await client.next((m) => m.type === 'gap');
  t.match(gap, { type: 'gap', after: old[0]! - 1, reason: 'archived' });
  t.ok((gap.resume_seq as number) >= old[2]!, 'live from resume_seq on');
  const live = await insertEvent(db.system, { appId: app.appId, userId: 'hank' });
  await client.eventCount(1);
  t.same(client.seqs(), [live]);
});

t.test('a resume point further behind than the replay limit gets a gap (too_far_behind)', async (t) => {
  const gw = await gateway(t, db.url, {}, { replayLimit: 5 });
  const { auth } = await userAuth('ivy');
  const seqs = await publish('ivy', 6);
  await released(gw, seqs.at(-1)!);
  const client = await Client.open(t, gw, { headers: auth, query: { after: seqs[0]! - 1 } });
  t.match(await client.next((m) => m.type === 'gap'), { type: 'gap', reason: 'too_far_behind' });
  t.same(client.seqs(), []);
  const ok = await Client.open(t, gw, { headers: auth, query: { after: seqs[0]! } });
  t.same(ok.seqs(), seqs.slice(1), 'five behind: replayed');
});
