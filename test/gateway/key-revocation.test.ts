// An app connection ends (1008) as soon as its API key stops working: a rotation revokes it (at
// once, or when a grace period ends), the app is disabled or its platform flag changes, or the
// revocation happened while the gateway's LISTEN connection was down. Other apps' and users'
// connections keep streaming; a revoked key is refused at the upgrade, the new key is admitted.
import t, { type Test } from 'tap';
import { request } from 'undici';
import { CLOSE } from '../../gateway/protocol.js';
import { rotateKey } from '../../lib/apps.js';
import { testDatabase } from '../helpers/db.js';
import { createTestApp, userAuth, type TestApp } from '../helpers/stack.js';
import { Client, gateway, insertEvent, upgradeStatus } from './helpers.js';

const db = await testDatabase(t);
const gw = await gateway(t, db.url);

const bearer = (apiKey: string) => ({ authorization: `Bearer ${apiKey}` });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Still open, and still receiving: a new event of `appId` for `userId` arrives. */
async function receives(t: Test, client: Client, appId: string, userId: string, what: string): Promise<void> {
  const seq = await insertEvent(db.system, { appId, userId });
  t.equal((await client.next((m) => m.seq === seq)).seq, seq, `${what} keeps receiving events`);
}

/** The gateway still serves: a new connection gets a new event. */
async function stillServing(t: Test, app: { appId: string; auth: Record<string, string> }): Promise<void> {
  const client = await Client.open(t, gw, { headers: app.auth });
  await receives(t, client, app.appId, 'probe', 'a new connection');
  await client.close();
}

async function closedWithin(client: Client, ms: number): Promise<{ code: number; reason: string; elapsed: number }> {
  const started = Date.now();
  const timeout = sleep(ms).then(() => ({ code: -1, reason: `still open after ${ms} ms` }));
  const closed = await Promise.race([client.closed, timeout]);
  return { ...closed, elapsed: Date.now() - started };
}

t.test('rotating a key closes its connections with 1008 at once; other apps and users keep streaming', async (t) => {
  const buddy = await createTestApp(db, { id: 'work-buddy' });
  const hugo = await createTestApp(db, { id: 'hugo-ai' });
  const all = await Client.open(t, gw, { headers: buddy.auth });
  const onlyAlice = await Client.open(t, gw, { headers: buddy.auth, query: { user_id: 'alice' } });
  const other = await Client.open(t, gw, { headers: hugo.auth });
  const alice = await Client.open(t, gw, { headers: (await userAuth('alice')).auth });

  const started = Date.now();
  const rotated = await rotateKey(db.system, buddy.appId);
  for (const client of [all, onlyAlice]) {
    const { code, reason } = await closedWithin(client, 2000);
    t.same([code, reason], [CLOSE.policy, 'api key revoked']);
  }
  const elapsed = Date.now() - started;
  t.ok(elapsed < 1000, `closed ${elapsed} ms after the rotation`);

  await receives(t, other, hugo.appId, 'alice', "another app's connection");
  await receives(t, alice, buddy.appId, 'alice', 'a user connection');
  await receives(t, alice, hugo.appId, 'alice', 'a user connection');

  t.equal((await upgradeStatus(gw, buddy.auth)).status, 401, 'the revoked key is refused at the upgrade');
  t.equal((await upgradeStatus(gw, bearer(rotated.api_key))).status, 101, 'the new key is admitted');
  await stillServing(t, { appId: buddy.appId, auth: bearer(rotated.api_key) });
});

t.test('a rotation with a grace period keeps the old key streaming until the grace ends, then closes with 1008', { timeout: 20_000 }, async (t) => {
  const app = await createTestApp(db, { id: 'graceful' });
  const second = await gateway(t, db.url);
  const before = await Client.open(t, gw, { headers: app.auth });
  const started = Date.now();
  const rotated = await rotateKey(db.system, app.appId, 2);
  // Admitted during the grace period by a gateway that had no connection of this app when the
  // rotation was announced: it learns the revocation time when the connection opens.
  const during = await Client.open(t, second, { headers: app.auth });
  const fresh = await Client.open(t, gw, { headers: bearer(rotated.api_key) });

  await sleep(1000);
  await receives(t, before, app.appId, 'bob', 'a connection of the old key, in the grace period');
  await receives(t, during, app.appId, 'bob', 'a connection opened in the grace period');

  for (const client of [before, during]) {
    const { code, reason } = await closedWithin(client, 4000);
    t.same([code, reason], [CLOSE.policy, 'api key revoked']);
  }
  const elapsed = Date.now() - started;
  t.ok(elapsed >= 1900 && elapsed < 3000, `closed ${elapsed} ms after a rotation with 2 s grace`);
  await receives(t, fresh, app.appId, 'bob', 'the connection of the new key');
  t.equal((await upgradeStatus(gw, app.auth)).status, 401, 'the old key is refused once the grace ended');
  await stillServing(t, { appId: app.appId, auth: bearer(rotated.api_key) });
});

t.test('disabling the app or changing its platform flag closes its connections with 1008', async (t) => {
  const disabled = await createTestApp(db, { id: 'switched-off' });
  const promoted = await createTestApp(db, { id: 'promoted' });
  const untouched = await createTestApp(db, { id: 'untouched' });
  const [a, b, c] = await Promise.all([disabled, promoted, untouched].map((app: TestApp) => Client.open(t, gw, { headers: app.auth })));

  await db.system.query('update oriva.apps set is_active = false where id = $1', [disabled.appId]);
  const off = await closedWithin(a!, 2000);
  t.same([off.code, off.reason], [CLOSE.policy, 'app disabled']);

  await db.system.query('update oriva.apps set is_platform = true where id = $1', [promoted.appId]);
  const changed = await closedWithin(b!, 2000);
  t.same([changed.code, changed.reason], [CLOSE.policy, 'app changed: reconnect']);
  t.equal((await upgradeStatus(gw, promoted.auth)).status, 101, 'the promoted app reconnects with its (still live) key');

  await receives(t, c!, untouched.appId, 'carol', 'an unrelated app');
  t.equal((await upgradeStatus(gw, disabled.auth)).status, 401, "a disabled app's key is refused at the upgrade");
  await stillServing(t, untouched);
});

t.test('a revocation while the LISTEN connection is down closes the connection after it reconnects', { timeout: 20_000 }, async (t) => {
  const slow = await gateway(t, db.url, {}, { reconnectMinMs: 1500, reconnectMaxMs: 1500 });
  const health = async () => (await (await request(`${slow.url.replace(/^ws/, 'http')}/healthz`)).body.json()) as { listening: boolean };
  const app = await createTestApp(db, { id: 'missed-it' });
  const client = await Client.open(t, slow, { headers: app.auth });

  // Cut every gateway LISTEN session of this database (the other gateway reconnects in 50 ms).
  await db.owner.query(
    `select pg_terminate_backend(pid, 5000) from pg_stat_activity where datname = current_database() and application_name = 'oriva-gateway-listen'`,
  );
  const deadline = Date.now() + 2000;
  while ((await health()).listening && Date.now() < deadline) await sleep(10);
  t.equal((await health()).listening, false, 'the gateway is not listening');
  await rotateKey(db.system, app.appId);
  t.equal((await health()).listening, false, 'the announcement was sent while it was not listening');

  const { code, reason } = await closedWithin(client, 5000);
  t.same([code, reason], [CLOSE.policy, 'api key revoked'], 'closed once the LISTEN connection is back');
  t.equal((await health()).listening, true);
});

t.test('/metrics counts the connections closed for their key', async (t) => {
  const text = await (await request(`${gw.url.replace(/^ws/, 'http')}/metrics`)).body.text();
  t.match(text, /oriva_gateway_closed_by_server_total\{reason="key_revoked"\} [1-9]/);
  t.match(text, /oriva_gateway_closed_by_server_total\{reason="app_disabled"\} 1/);
  t.match(text, /oriva_gateway_closed_by_server_total\{reason="app_changed"\} 1/);
});
