// In-band token refresh (issue 18, item 3): a user connection sends {"type":"auth","token":…} with a
// fresh JWT of the same user before its own expires, and keeps its connection, live events and
// cursor past the old expiry; a garbage, expired or wrongly signed token, or another user's, closes
// it with 1008; an API-key connection has nothing to refresh (an error frame, still open); a
// malformed auth message is a bad_message error. The gateway keeps serving after each.
import t from 'tap';
import WS from 'ws';
import { CLOSE } from '../../gateway/protocol.js';
import { signUserToken } from '../../lib/tokens.js';
import { testDatabase } from '../helpers/db.js';
import { createTestApp, TEST_JWT_SECRET, userAuth } from '../helpers/stack.js';
import { Client, gateway, insertEvent } from './helpers.js';

const db = await testDatabase(t);
const gw = await gateway(t, db.url);
const app = await createTestApp(db, { id: 'work-buddy' });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

t.test('a fresh token of the same user keeps the connection past the old expiry', async (t) => {
  const { auth } = await userAuth('ann', 2);
  const client = await Client.open(t, gw, { headers: auth });
  const before = await insertEvent(db.system, { appId: app.appId, userId: 'ann' });
  await client.next((m) => m.type === 'event' && m.seq === before);
  const fresh = await signUserToken(TEST_JWT_SECRET, 'ann', 60);
  client.send({ type: 'auth', token: fresh });
  const authenticated = await client.next((m) => m.type === 'authenticated');
  const expiresAt = Date.parse(String(authenticated.expires_at));
  t.ok(expiresAt > Date.now() + 50_000 && expiresAt <= Date.now() + 61_000, 'the new expiry is the fresh token\'s');
  await sleep(2800); // past the first token's expiry, several sweeps later
  const after = await insertEvent(db.system, { appId: app.appId, userId: 'ann' });
  const event = await client.next((m) => m.type === 'event' && m.seq === after);
  t.equal(event.seq, after, 'still open and live after the old expiry');
  t.same(client.seqs(), [before, after], 'nothing lost or repeated');
  t.equal(client.ws.readyState, WS.OPEN);
  await client.close();
});

t.test('a refused refresh closes with 1008 and the reason', async (t) => {
  const cases: [string, () => Promise<string>, string][] = [
    ["another user's token", () => signUserToken(TEST_JWT_SECRET, 'bob', 60), "token refresh refused: another user's token"],
    ['an expired token', () => signUserToken(TEST_JWT_SECRET, 'ann', -10), 'token refresh refused: invalid or expired token'],
    ['a token signed with another secret', () => signUserToken('y'.repeat(40), 'ann', 60), 'token refresh refused: invalid or expired token'],
    ['garbage', () => Promise.resolve('not.a.jwt'), 'token refresh refused: invalid or expired token'],
    ['an API key', () => Promise.resolve(app.apiKey), 'token refresh refused: invalid or expired token'],
  ];
  for (const [what, token, reason] of cases) {
    const client = await Client.open(t, gw, { headers: (await userAuth('ann', 60)).auth });
    client.send({ type: 'auth', token: await token() });
    t.same(await client.closed, { code: CLOSE.policy, reason }, what);
  }
  const probe = await Client.open(t, gw, { headers: (await userAuth('ann', 60)).auth });
  const seq = await insertEvent(db.system, { appId: app.appId, userId: 'ann' });
  t.equal((await probe.next((m) => m.type === 'event' && m.seq === seq)).seq, seq, 'the gateway keeps serving');
  await probe.close();
});

t.test('malformed auth messages and API-key connections get an error frame and stay open', async (t) => {
  const user = await Client.open(t, gw, { headers: (await userAuth('ann', 60)).auth });
  for (const [message, error] of [
    [{ type: 'auth' }, 'auth.token must be a user token (1-4096 characters)'],
    [{ type: 'auth', token: '' }, 'auth.token must be a user token (1-4096 characters)'],
    [{ type: 'auth', token: 42 }, 'auth.token must be a user token (1-4096 characters)'],
  ] as const) {
    const count = user.messages.length;
    user.send(message);
    const frame = await user.next((m) => m.type === 'error' && user.messages.indexOf(m) >= count);
    t.same(frame, { type: 'error', code: 'bad_message', message: error }, JSON.stringify(message).slice(0, 60));
  }
  t.equal(user.ws.readyState, WS.OPEN);
  const appConn = await Client.open(t, gw, { headers: app.auth });
  appConn.send({ type: 'auth', token: await signUserToken(TEST_JWT_SECRET, 'ann', 60) });
  const frame = await appConn.next((m) => m.type === 'error');
  t.same(frame, { type: 'error', code: 'bad_message', message: 'auth refreshes a user token; a connection opened with an API key has none' });
  t.equal(appConn.ws.readyState, WS.OPEN);
  await user.close();
  await appConn.close();
});
