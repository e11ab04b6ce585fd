// Refusals at the upgrade (401/403/400/429) and the close codes of a running connection (1008
// token expiry and flood, 1009 oversized message, idle timeout); the gateway keeps serving after each.
import t, { type Test } from 'tap';
import WS from 'ws';
import { CLOSE } from '../../gateway/protocol.js';
import { signUserToken } from '../../lib/tokens.js';
import { testDatabase } from '../helpers/db.js';
import { createTestApp, userAuth } from '../helpers/stack.js';
import { Client, gateway, insertEvent, streamUrl, upgradeStatus } from './helpers.js';

const db = await testDatabase(t);
const gw = await gateway(t, db.url, { ALLOWED_ORIGINS: 'https://core.oriva.io' });
const app = await createTestApp(db, { id: 'work-buddy' });

/** The gateway still serves: a new connection gets a new event. */
async function stillServing(t: Test): Promise<void> {
  const client = await Client.open(t, gw, { headers: app.auth });
  const seq = await insertEvent(db.system, { appId: app.appId, userId: 'probe' });
  const event = await client.next((m) => m.type === 'event');
  t.equal(event.seq, seq, 'the gateway keeps serving');
  await client.close();
}

t.test('bad, missing and expired credentials are refused with 401 at the upgrade', async (t) => {
  const expired = await userAuth('alice', -10);
  const cases: [string, Record<string, string>, Record<string, string>][] = [
    ['no credentials', {}, {}],
    ['garbage JWT', { authorization: 'Bearer not.a.jwt' }, {}],
    ['JWT signed with another secret', { authorization: `Bearer ${await signUserToken('x'.repeat(40), 'alice')}` }, {}],
    ['expired JWT', expired.auth, {}],
    ['unknown API key', { authorization: 'Bearer oriva_sk_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' }, {}],
    ['not a Bearer header', { authorization: 'Basic YWxpY2U6c2VjcmV0' }, {}],
    ['bad ?auth=', {}, { auth: 'nope' }],
    ['bad bearer subprotocol', { 'sec-websocket-protocol': 'oriva.v1, bearer.nope' }, {}],
  ];
  for (const [name, headers, query] of cases) {
    const { status, body } = await upgradeStatus(gw, headers, query);
    t.equal(status, 401, name);
    t.match(JSON.parse(body), { success: false, error: { code: /credentials/ } }, `${name}: error body`);
  }
  await stillServing(t);
});

t.test('credentials in the header, the subprotocol (echoing oriva.v1) and ?auth= are accepted', async (t) => {
  const { token, auth } = await userAuth('alice');
  t.equal((await upgradeStatus(gw, auth)).status, 101, 'Authorization header');
  const viaProtocol = await upgradeStatus(gw, { 'sec-websocket-protocol': `oriva.v1, bearer.${token}` });
  t.same([viaProtocol.status, viaProtocol.protocol], [101, 'oriva.v1'], 'the non-secret protocol is echoed, never the token');
  t.equal((await upgradeStatus(gw, {}, { auth: app.apiKey })).status, 101, '?auth= with an API key');
  const browser = await Client.open(t, gw, { protocols: ['oriva.v1', `bearer.${token}`], headers: { origin: 'https://core.oriva.io' } });
  t.equal(browser.ws.protocol, 'oriva.v1');
});

t.test('offering bearer.<token> without oriva.v1 is refused with 400, not a 101 without a protocol', async (t) => {
  const { token } = await userAuth('alice');
  // The previous test's connections are released asynchronously after they close: count once that settled.
  const registered = async () => (await db.system.query('select count(*)::int as n from oriva.gateway_connections')).rows[0].n as number;
  let connectionsBefore = await registered();
  for (let settled = false; !settled;) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    const now = await registered();
    settled = now === connectionsBefore;
    connectionsBefore = now;
  }
  for (const protocols of [[`bearer.${token}`], ['chat', `bearer.${token}`]]) {
    const ws = new WS(streamUrl(gw), protocols, { headers: { origin: 'https://core.oriva.io' } });
    const refused = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      ws.on('unexpected-response', (_req, res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => (body += chunk.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      ws.on('open', () => reject(new Error('upgraded')));
      ws.on('error', () => undefined);
    });
    t.equal(refused.status, 400, protocols.join(', '));
    t.same(JSON.parse(refused.body), { success: false, error: { code: 'bad_subprotocol', message: 'Offer the oriva.v1 subprotocol (next to bearer.<token>)' } });
    t.notMatch(refused.body, token, 'the token is not echoed');
  }
  const connectionsAfter = await registered();
  t.equal(connectionsAfter, connectionsBefore, 'no connection registered');
  await stillServing(t);
});

t.test('a wrong Origin is refused with 403; no Origin (not a browser) is allowed', async (t) => {
  const { auth } = await userAuth('alice');
  t.equal((await upgradeStatus(gw, { ...auth, origin: 'https://evil.example' })).status, 403);
  t.equal((await upgradeStatus(gw, { ...auth, origin: 'https://core.oriva.io' })).status, 101);
  t.equal((await upgradeStatus(gw, auth)).status, 101);
  t.equal((await upgradeStatus(gw, { ...auth }, { after: 'x' })).status, 400, 'after must be a seq');
  t.equal((await upgradeStatus(gw, { ...auth }, { user_id: 'bob' })).status, 403, 'a user token cannot watch another user');
  await stillServing(t);
});

t.test('a connection whose JWT expires is closed with 1008', async (t) => {
  const { auth } = await userAuth('shortlived', 2);
  const client = await Client.open(t, gw, { headers: auth });
  const { code, reason } = await client.closed;
  t.same([code, reason], [CLOSE.policy, 'token expired']);
  await stillServing(t);
});

t.test('an eleventh connection of one user is refused with 429; closing one makes room', async (t) => {
  const { auth } = await userAuth('busy');
  const open: Client[] = [];
  for (let i = 0; i < 10; i++) open.push(await Client.open(t, gw, { headers: auth }));
  const eleventh = await upgradeStatus(gw, auth);
  t.equal(eleventh.status, 429);
  t.match(JSON.parse(eleventh.body), { error: { code: 'too_many_connections' } });
  t.equal((await upgradeStatus(gw, (await userAuth('other')).auth)).status, 101, 'other users are not affected');
  await open[0]!.close();
  const deadline = Date.now() + 5000;
  let status = 0;
  while (status !== 101 && Date.now() < deadline) {
    status = (await upgradeStatus(gw, auth)).status;
    await new Promise((r) => setTimeout(r, 50));
  }
  t.equal(status, 101, 'room again once a connection closed');
  await stillServing(t);
});

t.test('an oversized message closes the connection with 1009', async (t) => {
  const client = await Client.open(t, gw, { headers: app.auth });
  client.send({ type: 'subscribe', events: ['x'.repeat(5000)] });
  const { code } = await client.closed;
  t.equal(code, CLOSE.tooBig);
  const huge = await Client.open(t, gw, { headers: app.auth });
  huge.send('x'.repeat(64 * 1024));
  t.equal((await huge.closed).code, 1006, 'far over the limit: cut by uWebSockets.js without reading it');
  await stillServing(t);
});

t.test('a flood of messages closes the connection with 1008', async (t) => {
  const client = await Client.open(t, gw, { headers: app.auth });
  for (let i = 0; i < 100; i++) client.send({ type: 'ping' });
  const { code, reason } = await client.closed;
  t.same([code, reason], [CLOSE.policy, 'message rate limit exceeded']);
  t.ok(client.messages.filter((m) => m.type === 'pong').length <= 20, 'at most the burst was answered');
  await stillServing(t);
});

t.test('pings arrive every interval; a client that never answers is closed after the idle timeout', { timeout: 30_000 }, async (t) => {
  const pinged = new WS(streamUrl(gw), { headers: app.auth });
  let pings = 0;
  pinged.on('ping', () => (pings += 1));
  const silent = new WS(streamUrl(gw), { headers: app.auth, autoPong: false });
  t.teardown(() => {
    pinged.terminate();
    silent.terminate();
  });
  const silentClosed = new Promise<number>((resolve) => silent.on('close', (code) => resolve(code)));
  const started = Date.now();
  const code = await silentClosed;
  const elapsed = Date.now() - started;
  t.ok(elapsed >= 4000 && elapsed < 16_000, `closed after ${elapsed} ms (idle timeout 8 s, resolution 4 s)`);
  t.equal(code, 1006, 'an idle connection is cut');
  // Pings every 1 s from a timer of the gateway's: in `elapsed` (as short as 4 s, see above) the
  // answering client gets at least one fewer than the whole seconds.
  t.ok(pings >= 3 && pings >= Math.floor(elapsed / 1000) - 1, `the answering client got ${pings} pings in ${elapsed} ms and stays open`);
  t.equal(pinged.readyState, WS.OPEN);
});
