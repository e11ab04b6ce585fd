// Several instances on one Postgres: two gateways and two API servers. A change made through API
// server A reaches a client on gateway B (and back); the 10-per-user limit holds across gateways; a
// crashed instance stops counting; /metrics. Notifications are created and dismissed through the
// real REST API here.
import t from 'tap';
import { request } from 'undici';
import { testDatabase } from '../helpers/db.js';
import { createTestApp, startTestServer, userAuth } from '../helpers/stack.js';
import { Client, FAST, gateway, upgradeStatus } from './helpers.js';

const db = await testDatabase(t);
const [gwA, gwB] = [await gateway(t, db.url), await gateway(t, db.url)];
const [apiA, apiB] = [await startTestServer(t, db), await startTestServer(t, db)];
const buddy = await createTestApp(db, { id: 'work-buddy' });
const hugo = await createTestApp(db, { id: 'hugo-ai' });

async function api(server: { url: string }, method: 'POST' | 'PATCH', path: string, auth: Record<string, string>, body: unknown) {
  const res = await request(`${server.url}/api/v1${path}`, { method, headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.statusCode, body: (await res.body.json()) as Record<string, unknown> };
}

t.test('created through API A, dismissed through API B: both gateways push events and counts', async (t) => {
  const { auth } = await userAuth('alice');
  const onA = await Client.open(t, gwA, { headers: auth });
  const onB = await Client.open(t, gwB, { headers: auth });
  const stranger = await Client.open(t, gwB, { headers: (await userAuth('mallory')).auth });
  const otherApp = await Client.open(t, gwA, { headers: hugo.auth });
  const ownApp = await Client.open(t, gwB, { headers: buddy.auth });

  const created = await api(apiA, 'POST', '/apps/work-buddy/notifications', buddy.auth, {
    external_id: 'wb-1', user_id: 'alice', notification_type: 'reminder', title: 'Standup', body: 'In 5 minutes',
  });
  t.equal(created.status, 201);
  const id = created.body.notification_id as string;
  for (const client of [onA, onB]) {
    t.match(await client.next((m) => m.type === 'event' && m.event_type === 'created'), { event_category: 'notification', entity_id: id, user_id: 'alice', app_id: 'work-buddy' });
    await client.next((m) => m.type === 'counts' && m.unread === 1);
  }

  const dismissed = await api(apiB, 'PATCH', `/notifications/${id}`, buddy.auth, { status: 'dismissed', dismissed_from: 'work_buddy' });
  t.equal(dismissed.status, 200);
  for (const client of [onA, onB]) {
    t.match(await client.next((m) => m.type === 'event' && m.event_type === 'dismissed'), { entity_id: id });
    t.same(await client.next((m) => m.type === 'counts' && m.unread === 0 && client.messages.indexOf(m) > client.messages.findIndex((x) => x.event_type === 'dismissed')), { type: 'counts', unread: 0 }, 'a counts update follows the dismissal');
  }
  // the app's connection lives on its own socket: wait for it rather than race it
  t.same((await ownApp.eventCount(2)).map((e) => e.event_type), ['created', 'dismissed'], "the owning app's connection sees both");
  t.same(stranger.events(), [], "a stranger's connection receives none of it");
  t.same(otherApp.events(), [], "another app's connection receives none of it");
});

t.test('10 connections per user across both gateways', async (t) => {
  const { auth } = await userAuth('busy');
  const clients: Client[] = [];
  for (let i = 0; i < 10; i++) clients.push(await Client.open(t, i % 2 ? gwA : gwB, { headers: auth }));
  t.equal((await upgradeStatus(gwA, auth)).status, 429);
  t.equal((await upgradeStatus(gwB, auth)).status, 429);
  await clients[0]!.close();
  await new Promise((r) => setTimeout(r, 200));
  t.equal((await upgradeStatus(gwA, auth)).status, 101, 'room on the other gateway once one closed');
});

t.test('a crashed instance stops counting once its heartbeat is stale', async (t) => {
  const { auth } = await userAuth('victim');
  // What a gateway that died without cleaning up leaves behind: its row and ten live connections.
  await db.system.query(`insert into oriva.gateway_instances (id) values ('00000000-0000-4000-8000-000000000001')`);
  await db.system.query(`
    insert into oriva.gateway_connections (id, instance_id, user_id)
    select gen_random_uuid(), '00000000-0000-4000-8000-000000000001', 'victim' from generate_series(1, 10)`);
  t.equal((await upgradeStatus(gwA, auth)).status, 429, 'while its heartbeat is fresh');
  const started = Date.now();
  let status = 429;
  while (status === 429 && Date.now() - started < 10_000) {
    await new Promise((r) => setTimeout(r, 100));
    status = (await upgradeStatus(gwA, auth)).status;
  }
  t.equal(status, 101);
  const waited = Date.now() - started;
  t.ok(waited <= FAST.instanceStaleMs! + 1000, `locked out ${waited} ms (stale after ${FAST.instanceStaleMs} ms; default 30 s)`);
  await new Promise((r) => setTimeout(r, FAST.heartbeatMs! * 2));
  const { rows } = await db.system.query(`select count(*)::int as n from oriva.gateway_connections where instance_id = '00000000-0000-4000-8000-000000000001'`);
  t.equal(rows[0].n, 0, "a live instance's heartbeat deleted the dead one and its connections");
});

t.test('an instance whose row was expired (its heartbeat came late) still admits, and its connections count again', async (t) => {
  const { auth } = await userAuth('paused');
  await Client.open(t, gwA, { headers: auth });
  // what another instance's heartbeat does when this one's is late: its row and connections go
  await db.system.query('delete from oriva.gateway_instances where id = $1', [gwA.instanceId]);
  await Client.open(t, gwA, { headers: auth });
  const { rows } = await db.system.query(`select count(*)::int as n from oriva.gateway_connections where instance_id = $1 and user_id = 'paused'`, [gwA.instanceId]);
  t.equal(rows[0].n, 2, 'the open connection was registered again, and the new one with it');
});

t.test('/metrics: connections, messages out, commit → push lag', async (t) => {
  const client = await Client.open(t, gwA, { headers: buddy.auth });
  await api(apiA, 'POST', '/apps/work-buddy/notifications', buddy.auth, { external_id: 'wb-metrics', user_id: 'zed', notification_type: 'x', title: 'T', body: 'B' });
  await client.next((m) => m.type === 'event');
  const res = await request(`${gwA.url.replace(/^ws/, 'http')}/metrics`);
  t.equal(res.statusCode, 200);
  const text = await res.body.text();
  t.match(text, /oriva_gateway_connections\{kind="app"\} [1-9]/);
  t.match(text, /oriva_gateway_messages_out_total [1-9]/);
  t.match(text, /oriva_gateway_commit_to_push_seconds_count [1-9]/);
  t.match(text, /oriva_gateway_upgrades_refused_total\{reason="too_many_connections"\} [1-9]/);
  t.match(text, /oriva_gateway_listening 1/);
  t.match(text, /process_resident_memory_bytes [1-9]/, 'default process metrics');
  t.match(text, /nodejs_eventloop_lag_seconds /);
});
