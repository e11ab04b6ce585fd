// The published contract is exact: outside production every reply is checked against /openapi.json
// (a field the document does not describe is a 500 undocumented_response in the suite, never a
// silent drift); 401s say how to authenticate; the headers we send are documented.
import t from 'tap';
import { routeSpecs, undocumented } from '../../server/routes/define.js';
import { testDatabase } from '../helpers/db.js';
import { createTestApp, startTestServer } from '../helpers/stack.js';
import { client, notification } from './http.js';

const db = await testDatabase(t);
const call = client(await startTestServer(t, db));
const wb = await createTestApp(db, { id: 'work-buddy' });

const spec = (operationId: string) => routeSpecs().find((s) => s.operationId === operationId)!;
const headers = (values: Record<string, string> = {}) => (name: string) => values[name] ?? '';
const limitHeaders = { 'X-RateLimit-Limit': '500', 'X-RateLimit-Remaining': '499', 'X-RateLimit-Reset': '1764748800' };

t.test('a reply with a field the document does not describe is caught, naming it', async (t) => {
  const created = { success: true, notification_id: '6f1c2b8e-2f7a-4a51-8d7e-0a4b9c3d2e1f', created_at: '2025-09-30T10:00:00.000Z', suppressed: [] };
  t.same(undocumented(spec('createNotification'), { status: 201, body: created }, headers(limitHeaders)), [], 'the documented reply passes');
  t.same(undocumented(spec('createNotification'), { status: 201, body: { ...created, debug: 'x' } }, headers(limitHeaders)), ['body/debug is not a known field']);
  t.same(undocumented(spec('createNotification'), { status: 201, body: { success: true, created_at: created.created_at, suppressed: [] } }, headers(limitHeaders)), ['body/notification_id is required']);
  t.same(undocumented(spec('createNotification'), { status: 200, body: created }, headers(limitHeaders)), ['status 200 is not the documented 201']);
  t.same(undocumented(spec('createNotification'), { status: 201, body: created }, headers()), [
    'header X-RateLimit-Limit is "", not an integer', 'header X-RateLimit-Remaining is "", not an integer', 'header X-RateLimit-Reset is "", not an integer',
  ]);
});

t.test('every operation documents its success body (or none for 204) and is checked', async (t) => {
  for (const s of routeSpecs()) {
    t.ok(s.success.status === 204 || s.success.schema, `${s.operationId} documents its ${s.success.status} body`);
  }
});

t.test('401 carries WWW-Authenticate; a replay carries Idempotent-Replayed, both documented', async (t) => {
  const res = await call('POST', '/apps/work-buddy/notifications', { json: notification() });
  t.equal(res.status, 401);
  t.equal(res.headers.get('www-authenticate'), 'Bearer realm="oriva"');
  const doc = (await call('GET', '/openapi.json')).body;
  const op = doc.paths['/api/v1/apps/{appId}/notifications'].post;
  t.same(op.responses['401'].headers, { 'WWW-Authenticate': { $ref: '#/components/headers/WWW-Authenticate' } });
  t.ok(op.responses['201'].headers['Idempotent-Replayed'], 'Idempotent-Replayed is declared on the success response');

  const body = notification();
  const first = await call('POST', '/apps/work-buddy/notifications', { headers: { ...wb.auth, 'idempotency-key': 'k-1' }, json: body });
  const again = await call('POST', '/apps/work-buddy/notifications', { headers: { ...wb.auth, 'idempotency-key': 'k-1' }, json: body });
  t.same([first.status, again.status, again.headers.get('idempotent-replayed')], [201, 201, 'true']);
});

t.test('DELETE /notifications/{id} is documented for API keys only, as the service answers', async (t) => {
  const doc = (await call('GET', '/openapi.json')).body;
  t.same(doc.paths['/api/v1/notifications/{id}'].delete.security, [{ appKey: [] }]);
});
