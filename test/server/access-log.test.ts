// The API writes one pino line per request, captured from a real server: method, route pattern,
// status, ms, request id and the caller — never a credential or the raw query string.
import { Writable } from 'node:stream';
import t from 'tap';
import { makeLogger } from '../../lib/log.js';
import { signUserToken } from '../../lib/tokens.js';
import { startServer } from '../../server/server.js';
import { testDatabase } from '../helpers/db.js';
import { TEST_JWT_SECRET, createTestApp, testConfig } from '../helpers/stack.js';

const db = await testDatabase(t);
const lines: string[] = [];
const capture = new Writable({
  write(chunk, _encoding, done) {
    lines.push(...String(chunk).split('\n').filter(Boolean));
    done();
  },
});
const config = testConfig({ LOG_LEVEL: 'info' });
const server = await startServer(config, db.url, makeLogger('server', 'info', capture), 0);
t.teardown(() => server.close());
const app = await createTestApp(db);
const userToken = await signUserToken(TEST_JWT_SECRET, 'user_log', 3600);

/** The request lines written for one request id (pino writes synchronously to the stream). */
const requestLines = (requestId: string) => lines.map((line) => JSON.parse(line)).filter((entry) => entry.msg === 'request' && entry.requestId === requestId);

t.test('an app request: one line with the route pattern, status, ms and the app id', async (t) => {
  const response = await fetch(`${server.url}/api/v1/apps/${app.appId}/events?limit=5`, { headers: { ...app.auth, 'x-request-id': 'log-app-1' } });
  t.equal(response.status, 200);
  await response.arrayBuffer();
  const found = requestLines('log-app-1');
  t.equal(found.length, 1, 'exactly one line');
  t.match(found[0], { level: 30, name: 'server', method: 'GET', route: '/api/v1/apps/:appId/events', status: 200, ms: Number, appId: app.appId });
  t.notOk('userId' in found[0]);
  t.notMatch(JSON.stringify(found[0]), app.apiKey, 'no API key');
  t.notMatch(JSON.stringify(found[0]), 'limit=5', 'no raw query string');
});

t.test('a user request: the user id, never the token', async (t) => {
  const response = await fetch(`${server.url}/api/v1/users/user_log/notifications`, { headers: { authorization: `Bearer ${userToken}`, 'x-request-id': 'log-user-1' } });
  t.equal(response.status, 200);
  await response.arrayBuffer();
  const found = requestLines('log-user-1');
  t.equal(found.length, 1);
  t.match(found[0], { method: 'GET', route: '/api/v1/users/:userId/notifications', status: 200, userId: 'user_log' });
  t.notMatch(JSON.stringify(found[0]), userToken);
});

t.test('a refused credential and an ?auth= query: logged without either value', async (t) => {
  const secret = 'oriva_sk_not-a-real-key-0123456789';
  const response = await fetch(`${server.url}/api/v1/apps/${app.appId}/events?auth=${userToken}`, { headers: { authorization: `Bearer ${secret}`, 'x-request-id': 'log-401' } });
  t.equal(response.status, 401);
  await response.arrayBuffer();
  const found = requestLines('log-401');
  t.equal(found.length, 1);
  t.match(found[0], { method: 'GET', route: 'unmatched', status: 401 });
  t.notOk('appId' in found[0] || 'userId' in found[0], 'no caller');
  const all = lines.join('\n');
  t.notMatch(all, secret, 'the credential appears in no line');
  t.notMatch(all, userToken, 'the ?auth= value appears in no line');
});

t.test('an unknown endpoint and a validation failure each still write their one line', async (t) => {
  const missing = await fetch(`${server.url}/api/v1/nowhere`, { headers: { 'x-request-id': 'log-404' } });
  t.equal(missing.status, 404);
  await missing.arrayBuffer();
  t.match(requestLines('log-404'), [{ method: 'GET', route: 'unmatched', status: 404 }]);
  const invalid = await fetch(`${server.url}/api/v1/apps/${app.appId}/events?limit=abc`, { headers: { ...app.auth, 'x-request-id': 'log-400' } });
  t.equal(invalid.status, 400);
  await invalid.arrayBuffer();
  const found = requestLines('log-400');
  t.equal(found.length, 1);
  t.match(found[0], { route: '/api/v1/apps/:appId/events', status: 400, appId: app.appId });
});
