// The client's typed REST calls (issue 18, item 1) against the real API and Postgres, through a
// proxy on loopback that can answer 503 itself or forward a request and then drop the answer (a
// response lost on the way back): answers are the API's bodies; errors carry its code, message and
// details; creates send an Idempotency-Key, so a create whose answer was lost is retried and
// written once; GET is retried after a 503, honouring Retry-After; a PATCH or a POST without a key
// is never retried; an unreachable API is code "network".
import { createServer, request as httpRequest } from 'node:http';
import t from 'tap';
import { createClient, OrivaApiError } from '../../client/src/index.js';
import { freePort, listen } from '../../lib/listen.js';
import { testDatabase } from '../helpers/db.js';
import { createTestApp, startTestServer, userAuth } from '../helpers/stack.js';

const db = await testDatabase(t);
const server = await startTestServer(t, db);
const app = await createTestApp(db, { id: 'rest-app' });
const other = await createTestApp(db, { id: 'rest-other' });

// 'pass' forwards; '503' answers 503 (Retry-After: 0) without forwarding; 'drop' forwards, waits for
// the API's answer, then destroys the client's socket. `plan` is consumed one request at a time.
let plan: ('pass' | '503' | 'drop')[] = [];
const seen: { method: string; url: string; key: string | undefined }[] = [];
const proxy = createServer((req, res) => {
  seen.push({ method: req.method!, url: req.url!, key: req.headers['idempotency-key'] as string | undefined });
  const mode = plan.shift() ?? 'pass';
  if (mode === '503') {
    req.resume();
    res.writeHead(503, { 'content-type': 'application/json', 'retry-after': '0' });
    res.end(JSON.stringify({ success: false, error: { code: 'unavailable', message: 'The service cannot reach its database right now; retry later' } }));
    return;
  }
  const upstream = httpRequest({ host: '127.0.0.1', port: server.port, path: req.url, method: req.method, headers: req.headers }, (answer) => {
    if (mode === 'drop') {
      answer.resume();
      answer.on('end', () => res.destroy());
      return;
    }
    res.writeHead(answer.statusCode ?? 502, answer.headers);
    answer.pipe(res);
  });
  req.pipe(upstream);
});
proxy.on('connection', (socket) => t.teardown(() => socket.destroy()));
const proxyPort = await listen(proxy, 0, '127.0.0.1');
t.teardown(() => new Promise((resolve) => proxy.close(resolve)));

const oriva = createClient({ baseUrl: `http://127.0.0.1:${proxyPort}`, token: app.apiKey, maxRetryDelayMs: 50 });
const notificationsOf = async (externalId: string) =>
  (await db.system.query('select id from oriva.platform_notifications where app_id = $1 and external_id = $2', [app.appId, externalId])).rows;
const reset = () => {
  plan = [];
  seen.length = 0;
};
const notification = (externalId: string) => ({ external_id: externalId, user_id: 'ana', notification_type: 'reminder', title: 'Hello', body: 'From the SDK' });

t.test('typed calls answer with the API body', async (t) => {
  reset();
  const created = await oriva.createNotification({ path: { appId: app.appId }, body: notification('sdk-1') });
  t.match(created, { success: true, notification_id: String, created_at: String, suppressed: [] });
  t.equal(seen.length, 1);
  t.match(seen[0]!.key, /^[0-9a-f-]{36}$/, 'a create carries a random Idempotency-Key');
  const { token } = await userAuth('ana');
  const user = createClient({ baseUrl: server.url, token: () => token });
  const feed = await user.listUserNotifications({ path: { userId: 'ana' }, query: { limit: 5 } });
  t.same(feed.notifications.map((n) => n.id), [created.notification_id]);
  t.equal(feed.unread_count, 1);
  t.equal(await user.updateNotificationState({ path: { id: created.notification_id }, body: { status: 'read' } }).then((r) => r.status), 'read');
  t.equal(await oriva.deleteNotification({ path: { id: created.notification_id } }), undefined, '204 → undefined');
});

t.test("errors carry the API's code, message and details, and write nothing", async (t) => {
  reset();
  const invalid = await oriva.createNotification({ path: { appId: app.appId }, body: { ...notification('sdk-bad'), title: 'x'.repeat(201) } }).catch((e: unknown) => e);
  t.ok(invalid instanceof OrivaApiError);
  t.match(invalid, { status: 400, code: 'validation_error', message: 'body/title must NOT have more than 200 characters', details: [{ path: 'body/title' }] });
  t.same(await notificationsOf('sdk-bad'), []);
  t.equal(seen.length, 1, 'a 400 is not retried');
  const foreign = await oriva.createNotification({ path: { appId: other.appId }, body: notification('sdk-foreign') }).catch((e: unknown) => e);
  t.match(foreign, { status: 403, code: 'forbidden' });
  const wrongKey = createClient({ baseUrl: server.url, token: 'oriva_sk_wrong' });
  t.match(await wrongKey.getCaller().catch((e: unknown) => e), { status: 401, code: 'unauthorized' });
  await oriva.createNotification({ path: { appId: app.appId }, body: notification('sdk-dup') });
  const duplicate = await oriva.createNotification({ path: { appId: app.appId }, body: notification('sdk-dup') }).catch((e: unknown) => e);
  t.match(duplicate, { status: 409, code: 'conflict' }, 'a new create with a used external_id (and a new key) is a duplicate');
});

t.test('a create whose answer was lost is retried with the same key and written once', async (t) => {
  reset();
  plan = ['drop'];
  const created = await oriva.createNotification({ path: { appId: app.appId }, body: notification('sdk-lost') });
  t.equal(seen.length, 2, 'sent twice');
  t.equal(seen[0]!.key, seen[1]!.key, 'with the same Idempotency-Key');
  const rows = await notificationsOf('sdk-lost');
  t.equal(rows.length, 1, 'written once');
  t.equal(created.notification_id, rows[0].id, 'the retry answers with the stored response');

  reset();
  plan = ['503'];
  const given = await oriva.createNotification({ path: { appId: app.appId }, body: notification('sdk-503'), idempotencyKey: 'my-key-1' });
  t.same(seen.map((s) => s.key), ['my-key-1', 'my-key-1'], 'a 503 is retried with the given key');
  t.equal((await notificationsOf('sdk-503'))[0].id, given.notification_id);
});

t.test('only safe requests are retried', async (t) => {
  reset();
  plan = ['503', '503'];
  const caller = await oriva.getCaller();
  t.match(caller, { caller: { kind: 'app', app_id: app.appId } });
  t.equal(seen.length, 3, 'a GET is retried after 503 (twice by default)');

  reset();
  plan = ['503', '503', '503'];
  t.match(await oriva.getCaller().catch((e: unknown) => e), { status: 503, code: 'unavailable' }, 'retries are bounded');
  t.equal(seen.length, 3);

  const created = await oriva.createNotification({ path: { appId: app.appId }, body: { ...notification('sdk-patch'), user_id: 'bo' } });
  const { token } = await userAuth('bo');
  const user = createClient({ baseUrl: `http://127.0.0.1:${proxyPort}`, token, maxRetryDelayMs: 50 });
  reset();
  plan = ['503'];
  t.match(await user.updateNotificationState({ path: { id: created.notification_id }, body: { status: 'read' } }).catch((e: unknown) => e), { status: 503 });
  t.equal(seen.length, 1, 'a PATCH is not retried');
  reset();
  plan = ['drop'];
  t.match(await user.markAllRead({ path: { userId: 'bo' }, body: {} }).catch((e: unknown) => e), { status: 0, code: 'network' });
  t.equal(seen.length, 1, 'a POST without an Idempotency-Key is not retried after a lost answer');
});

t.test('an unreachable API is code "network"', async (t) => {
  const nowhere = createClient({ baseUrl: `http://127.0.0.1:${await freePort()}`, token: app.apiKey, retries: 1, maxRetryDelayMs: 10 });
  t.match(await nowhere.getCaller().catch((e: unknown) => e), { status: 0, code: 'network', message: /cannot be reached/ });
});
