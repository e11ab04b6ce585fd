// The event-type catalog (GET /api/v1/event-types) and the `webhooks` section of /openapi.json say
// what a subscribed endpoint receives: real deliveries of each kind match the documented payloads.
import t from 'tap';
import { PLATFORM_EVENT_TYPES, webhookPayload } from '../../lib/schemas/event-types.js';
import { responseProblems } from '../../server/middleware/validate.js';
import { testDatabase } from '../helpers/db.js';
import { createTestApp, startTestServer, startTestWorker, userAuth } from '../helpers/stack.js';
import { startReceiver } from '../worker/helpers/receiver.js';
import { client, failure, notification } from './http.js';

const db = await testDatabase(t);
const call = client(await startTestServer(t, db, { WEBHOOK_ALLOWLIST: '127.0.0.1' }));
const app = await createTestApp(db, { id: 'work-buddy' });
const user = await userAuth('user_456');
const receiver = await startReceiver(t);
await startTestWorker(t, db, { WEBHOOK_ALLOWLIST: '127.0.0.1' });

t.test('GET /event-types lists every platform event type with its event_data schema', async (t) => {
  const res = await call('GET', '/event-types', { headers: app.auth });
  t.equal(res.status, 200);
  t.same(res.body.event_types.map((e: { name: string }) => e.name), PLATFORM_EVENT_TYPES.map((e) => e.name));
  t.match(res.body.event_types[0], { name: 'notification.created', description: String, data: { type: 'object', required: ['source', 'notification'] } });
  t.equal((await call('GET', '/event-types', { headers: user.auth })).status, 200, 'users may read it too');
  const anonymous = await call('GET', '/event-types');
  t.equal(anonymous.status, 401);
  t.match(anonymous.body, failure('unauthorized'));
  const doc = (await call('GET', '/openapi.json')).body;
  t.same(Object.keys(doc.webhooks), PLATFORM_EVENT_TYPES.map((e) => e.name), 'one webhooks entry per type');
});

t.test('real deliveries match the documented payload of their type', async (t) => {
  const hook = await call('POST', '/apps/work-buddy/webhooks', { headers: app.auth, json: { webhook_url: receiver.url('/all'), subscribed_events: ['notification.*'] } });
  t.equal(hook.status, 201);
  const created = await call('POST', '/apps/work-buddy/notifications', { headers: app.auth, json: notification({ context_data: { a: [1, { b: null }] } }) });
  const id = created.body.notification_id as string;
  for (const status of ['read', 'unread', 'clicked', 'dismissed']) {
    t.equal((await call('PATCH', `/notifications/${id}`, { headers: user.auth, json: { status, ...(status === 'dismissed' ? { dismissed_from: 'oriva_core' } : {}) } })).status, 200, status);
  }
  const other = await call('POST', '/apps/work-buddy/notifications', { headers: app.auth, json: notification() });
  t.equal((await call('POST', '/users/user_456/notifications/read-all', { headers: user.auth, json: {} })).status, 200);
  t.equal((await call('DELETE', `/notifications/${other.body.notification_id}`, { headers: app.auth })).status, 204);

  const requests = await receiver.waitFor('/all', 8, 15_000);
  const seen = new Set<string>();
  for (const request of requests) {
    const body = JSON.parse(request.body) as { type: string };
    const info = PLATFORM_EVENT_TYPES.find((e) => e.name === body.type)!;
    t.ok(info, `${body.type} is in the catalog`);
    t.same(responseProblems(webhookPayload(info), body), null, `${body.type} matches its documented payload`);
    seen.add(body.type);
  }
  t.same([...seen].sort(), ['notification.clicked', 'notification.created', 'notification.deleted', 'notification.dismissed', 'notification.read', 'notification.unread']);
});
