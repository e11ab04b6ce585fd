// API keys over HTTP: a revoked or rotated key gets 401 on its very next request, although the
// server remembers which app a key belongs to (every transaction checks the key again).
import t from 'tap';
import { rotateKey } from '../../lib/apps.js';
import { testDatabase } from '../helpers/db.js';
import { createTestApp, startTestServer } from '../helpers/stack.js';
import { client, failure, notification, rowCounts } from './http.js';

const db = await testDatabase(t);
const server = await startTestServer(t, db);
const call = client(server);
const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

t.test('rotate-key: the old key is refused at once, the new one works, nothing is written with the old one', async (t) => {
  const app = await createTestApp(db, { id: 'rotating-app' });
  const path = '/apps/rotating-app/notifications';
  t.equal((await call('POST', path, { headers: app.auth, json: notification() })).status, 201, 'the key works (and is now remembered)');
  t.equal((await call('GET', '/apps/rotating-app/events', { headers: app.auth })).status, 200);

  const next = await rotateKey(db.system, 'rotating-app');
  const before = await rowCounts(db);
  const refused = await call('POST', path, { headers: app.auth, json: notification() });
  t.equal(refused.status, 401);
  t.match(refused.body, failure('unauthorized'));
  t.same(await rowCounts(db), before, 'nothing written');
  t.equal((await call('GET', '/apps/rotating-app/events', { headers: app.auth })).status, 401, 'reads refused too');
  t.equal((await call('POST', path, { headers: app.auth, json: notification() })).status, 401, 'and stays refused');

  t.equal((await call('POST', path, { headers: bearer(next.api_key), json: notification() })).status, 201, 'the new key works');
});

t.test('rotate-key with a grace period: the old key works until it ends, then 401', async (t) => {
  const app = await createTestApp(db, { id: 'graceful-app' });
  const path = '/apps/graceful-app/notifications';
  t.equal((await call('POST', path, { headers: app.auth, json: notification() })).status, 201);
  const next = await rotateKey(db.system, 'graceful-app', 1);
  t.equal((await call('POST', path, { headers: app.auth, json: notification() })).status, 201, 'old key inside the grace period');
  t.equal((await call('POST', path, { headers: bearer(next.api_key), json: notification() })).status, 201, 'new key');
  await new Promise((resolve) => setTimeout(resolve, 1200));
  const refused = await call('POST', path, { headers: app.auth, json: notification() });
  t.equal(refused.status, 401, 'old key after the grace period');
  t.match(refused.body, failure('unauthorized'));
  t.equal((await call('POST', path, { headers: bearer(next.api_key), json: notification() })).status, 201, 'new key still works');
});

t.test('a disabled app: its remembered key is refused at once', async (t) => {
  const app = await createTestApp(db, { id: 'disabled-app' });
  t.equal((await call('GET', '/apps/disabled-app/events', { headers: app.auth })).status, 200);
  await db.system.query('update oriva.apps set is_active = false where id = $1', ['disabled-app']);
  t.equal((await call('GET', '/apps/disabled-app/events', { headers: app.auth })).status, 401);
});
