// Routing: a user connection gets that user's events from every app, an app connection its own
// app's events, counts follow every change to a user's notification state.
import t from 'tap';
import { testDatabase } from '../helpers/db.js';
import { createTestApp, userAuth } from '../helpers/stack.js';
import { Client, createNotification, gateway, insertEvent } from './helpers.js';

const db = await testDatabase(t);
const gw = await gateway(t, db.url);
const buddy = await createTestApp(db, { id: 'work-buddy' });
const hugo = await createTestApp(db, { id: 'hugo-ai' });

t.test('two connections of one user both receive notification.created; a stranger receives nothing', async (t) => {
  const alice = await userAuth('alice');
  const phone = await Client.open(t, gw, { headers: alice.auth });
  const laptop = await Client.open(t, gw, { headers: alice.auth });
  const stranger = await Client.open(t, gw, { headers: (await userAuth('mallory')).auth });
  await Promise.all([phone, laptop, stranger].map((c) => c.next((m) => m.type === 'counts')));

  const { id, seq } = await createNotification(db, buddy.appId, 'alice', 'Standup in 5');

  for (const client of [phone, laptop]) {
    const event = await client.next((m) => m.type === 'event');
    t.match(event, { type: 'event', seq, event_category: 'notification', event_type: 'created', entity_id: id, user_id: 'alice', app_id: 'work-buddy' });
    t.match(event.event_data, { notification: { id, title: 'Standup in 5' } }, 'a created notification carries the notification');
    t.same(await client.next((m) => m.type === 'counts' && m.unread === 1), { type: 'counts', unread: 1 });
  }
  // The stranger's next event must be one of its own, never Alice's.
  const own = await insertEvent(db.system, { appId: buddy.appId, userId: 'mallory' });
  const first = await stranger.next((m) => m.type === 'event');
  t.equal(first.seq, own, "the stranger's first event is its own");
  t.same(stranger.messages.filter((m) => m.type === 'counts'), [{ type: 'counts', unread: 0 }], 'only its initial count');
});

t.test('a user connection receives its events from every app', async (t) => {
  const bob = await Client.open(t, gw, { headers: (await userAuth('bob')).auth });
  const a = await insertEvent(db.system, { appId: buddy.appId, userId: 'bob' });
  const b = await insertEvent(db.system, { appId: hugo.appId, userId: 'bob' });
  const events = await bob.eventCount(2);
  t.same(events.map((e) => [e.seq, e.app_id]), [[a, 'work-buddy'], [b, 'hugo-ai']]);
});

t.test("an app connection never receives another app's events; ?user_id= narrows to one user", async (t) => {
  const all = await Client.open(t, gw, { headers: buddy.auth });
  const onlyCarol = await Client.open(t, gw, { headers: buddy.auth, query: { user_id: 'carol' } });
  const other = await Client.open(t, gw, { headers: hugo.auth });
  const s1 = await insertEvent(db.system, { appId: hugo.appId, userId: 'carol' });
  const s2 = await insertEvent(db.system, { appId: buddy.appId, userId: 'dave' });
  const s3 = await insertEvent(db.system, { appId: buddy.appId, userId: 'carol' });
  t.same((await all.eventCount(2)).map((e) => e.seq), [s2, s3]);
  t.same((await onlyCarol.eventCount(1)).map((e) => e.seq), [s3]);
  t.same((await other.eventCount(1)).map((e) => e.seq), [s1]);
  await insertEvent(db.system, { appId: hugo.appId, userId: 'carol' });
  const marker = await insertEvent(db.system, { appId: buddy.appId, userId: 'carol' });
  await all.next((m) => m.seq === marker);
  await onlyCarol.next((m) => m.seq === marker);
  t.ok(all.events().every((e) => e.app_id === 'work-buddy'), 'only its own app');
  t.ok(onlyCarol.events().every((e) => e.user_id === 'carol' && e.app_id === 'work-buddy'));
});

t.test('a platform app with ?user_id= follows that user across apps', async (t) => {
  const core = await createTestApp(db, { id: 'oriva-core', platform: true });
  const feed = await Client.open(t, gw, { headers: core.auth, query: { user_id: 'erin' } });
  const a = await insertEvent(db.system, { appId: buddy.appId, userId: 'erin' });
  await insertEvent(db.system, { appId: hugo.appId, userId: 'frank' });
  const b = await insertEvent(db.system, { appId: hugo.appId, userId: 'erin' });
  await feed.next((m) => m.seq === b);
  t.same(feed.seqs(), [a, b]);
});

t.test('subscribe narrows the stream to matching event types', async (t) => {
  const gina = await Client.open(t, gw, { headers: (await userAuth('gina')).auth });
  gina.send({ type: 'subscribe', events: ['notification.*'] });
  t.same(await gina.next((m) => m.type === 'subscribed'), { type: 'subscribed', events: ['notification.*'] });
  await insertEvent(db.system, { appId: buddy.appId, userId: 'gina', category: 'task', type: 'done' });
  const { seq } = await createNotification(db, buddy.appId, 'gina');
  await gina.next((m) => m.type === 'event');
  t.same(gina.seqs(), [seq]);
  gina.send({ type: 'subscribe', events: ['no pattern'] });
  t.match(await gina.next((m) => m.type === 'error'), { type: 'error', code: 'bad_message' });
  gina.send({ type: 'ping' });
  t.same(await gina.next((m) => m.type === 'pong'), { type: 'pong' });
});
