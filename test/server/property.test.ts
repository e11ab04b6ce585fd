// Property test: random and malformed bodies at every POST/PATCH. The answer is never a 5xx, every
// failure is the one error envelope, and a rejected request writes nothing.
import fc from 'fast-check';
import t from 'tap';
import { testDatabase } from '../helpers/db.js';
import { createTestApp, startTestServer, userAuth } from '../helpers/stack.js';
import { client, notification, rowCounts } from './http.js';

const db = await testDatabase(t);
const high = '10000000';
const call = client(await startTestServer(t, db, { RATE_LIMIT_NOTIFICATIONS: high, RATE_LIMIT_EVENTS: high, RATE_LIMIT_QUERIES: high, RATE_LIMIT_WEBHOOKS: high }));
const app = await createTestApp(db, { id: 'work-buddy' });
const user = await userAuth('user_456');
const noteId = (await call('POST', '/apps/work-buddy/notifications', { headers: app.auth, json: notification() })).body.notification_id;
const hookId = (await call('POST', '/apps/work-buddy/webhooks', { headers: app.auth, json: { webhook_url: 'https://93.184.215.14/h', subscribed_events: ['*'] } })).body.webhook_id;

const validBodies: [string, string, Record<string, string>, Record<string, unknown>][] = [
  ['POST', '/apps/work-buddy/events', app.auth, { event_category: 'session', event_type: 'started', entity_type: 'session', entity_id: 's1', user_id: 'user_456', event_data: {} }],
  ['POST', '/apps/work-buddy/notifications', app.auth, notification({ external_id: 'fixed' })],
  ['POST', '/apps/work-buddy/notifications/batch', app.auth, { notifications: [notification({ external_id: 'fixed-batch' })] }],
  ['PATCH', `/notifications/${noteId}`, user.auth, { status: 'read' }],
  ['POST', '/users/user_456/notifications/read-all', user.auth, { app_id: 'work-buddy' }],
  ['POST', '/apps/work-buddy/webhooks', app.auth, { webhook_url: 'https://93.184.215.14/x', subscribed_events: ['notification.*'] }],
  ['PATCH', `/apps/work-buddy/webhooks/${hookId}`, app.auth, { is_active: true }],
  ['POST', `/apps/work-buddy/webhooks/${hookId}/rotate-secret`, app.auth, {}],
];

/** Malformed text, arbitrary JSON, and valid bodies with one field replaced by anything. Only the
 * mutated ones, or an empty body / {} where the body is optional, may be accepted. */
const body = (valid: Record<string, unknown>) =>
  fc.oneof(
    fc.string({ unit: 'binary' }).map((raw) => ({ raw, mutated: false })),
    fc.jsonValue().map((v) => ({ raw: JSON.stringify(v), mutated: false })),
    fc.tuple(fc.constantFrom(...Object.keys(valid), 'unknown_field'), fc.oneof(fc.jsonValue(), fc.string({ unit: 'binary' }), fc.constant(null)))
      .map(([key, value]) => ({ raw: JSON.stringify({ ...valid, [key]: value }), mutated: true })),
  );

for (const [method, path, auth, valid] of validBodies) {
  t.test(`${method} ${path}: random bodies`, async (t) => {
    let rejected = 0;
    await fc.assert(
      fc.asyncProperty(body(valid), async ({ raw, mutated }) => {
        const before = await rowCounts(db);
        const res = await call(method, path, { headers: { ...auth, 'content-type': 'application/json' }, raw });
        if (res.status >= 500) throw new Error(`${res.status} for ${raw}: ${JSON.stringify(res.body)}`);
        if (res.status >= 400) {
          rejected += 1;
          if (res.body?.success !== false || typeof res.body?.error?.code !== 'string') throw new Error(`no error envelope: ${JSON.stringify(res.body)}`);
          const after = await rowCounts(db);
          if (JSON.stringify(after) !== JSON.stringify(before)) throw new Error(`rejected (${res.status}) but wrote: ${JSON.stringify(before)} → ${JSON.stringify(after)} for ${raw}`);
        } else if (!mutated && raw !== '' && raw !== '{}') {
          throw new Error(`a random body was accepted (${res.status}): ${raw}`);
        }
      }),
      { numRuns: 60 },
    );
    t.ok(rejected > 0, `${rejected} of 60 rejected with a 4xx and nothing written; never a 5xx`);
  });
}
