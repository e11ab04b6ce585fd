// A lost database is 503 `unavailable` with Retry-After on every route — never a 500 — and the API
// answers normally again once Postgres is back.
import t from 'tap';
import { UNAVAILABLE_RETRY_AFTER_S } from '../../lib/errors.js';
import { createApp } from '../../lib/apps.js';
import { makePool } from '../../lib/db.js';
import { privatePostgres } from '../helpers/private-postgres.js';
import { testConfig, testLogger, userAuth } from '../helpers/stack.js';
import { startServer } from '../../server/server.js';
import { client, failure, notification } from './http.js';

const pg = await privatePostgres(t);
const setup = makePool(pg.url, { role: 'oriva_system' });
const app = await createApp(setup, { id: 'work-buddy', name: 'Work Buddy', iconUrl: null, platform: false });
await setup.end();
const config = testConfig();
const server = await startServer(config, pg.url, testLogger('server', config), 0);
t.teardown(() => server.close());
const call = client(server);
const auth = { authorization: `Bearer ${app.api_key}` };
const user = await userAuth('user_456');

t.test('Postgres stopped: every kind of request → 503 unavailable with Retry-After', async (t) => {
  t.equal((await call('POST', '/apps/work-buddy/notifications', { headers: auth, json: notification() })).status, 201, 'up');
  await pg.stop();
  const requests: [string, string, Record<string, unknown>][] = [
    ['POST', '/apps/work-buddy/notifications', { headers: auth, json: notification() }],
    ['POST', '/apps/work-buddy/events', { headers: auth, json: { event_category: 'session', event_type: 'started', entity_type: 'session', entity_id: 's', user_id: 'u' } }],
    ['GET', '/users/user_456/notifications', { headers: user.auth }],
    ['GET', '/apps/work-buddy/webhooks', { headers: auth }],
  ];
  for (const [method, path, options] of requests) {
    const res = await call(method, path, options);
    t.equal(res.status, 503, `${method} ${path}`);
    t.match(res.body, failure('unavailable'));
    t.equal(res.body.error.message, 'The service cannot reach its database right now; retry later');
    t.equal(res.headers.get('retry-after'), String(UNAVAILABLE_RETRY_AFTER_S));
  }
  await pg.start();
  let status = 0;
  for (let i = 0; i < 50 && status !== 201; i++) {
    status = (await call('POST', '/apps/work-buddy/notifications', { headers: auth, json: notification() })).status;
    if (status !== 201) await new Promise((r) => setTimeout(r, 100));
  }
  t.equal(status, 201, 'answers again once Postgres is back');
});
