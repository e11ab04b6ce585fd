// GET /openapi.json: generated from the route specs, so it covers every endpoint, and its examples
// pass the same ajv validation the API runs.
import t from 'tap';
import { routeSpecs } from '../../server/routes/define.js';
import { validatorFor } from '../../server/middleware/validate.js';
import { testDatabase } from '../helpers/db.js';
import { startTestServer } from '../helpers/stack.js';
import { client } from './http.js';

const db = await testDatabase(t);
const call = client(await startTestServer(t, db));

t.test('OpenAPI 3.1 with every endpoint, auth schemes, the error envelope and rate-limit headers', async (t) => {
  const res = await call('GET', '/openapi.json', { headers: { authorization: 'Bearer whatever' } });
  t.equal(res.status, 200, 'public, whatever the credentials');
  const doc = res.body;
  t.equal(doc.openapi, '3.1.0');
  t.same(Object.keys(doc.components.securitySchemes).sort(), ['appKey', 'userToken']);
  t.ok(doc.components.schemas.Error, 'error envelope schema');
  const expected = [
    'post /api/v1/apps/{appId}/events', 'get /api/v1/apps/{appId}/events', 'post /api/v1/apps/{appId}/notifications',
    'post /api/v1/apps/{appId}/notifications/batch', 'get /api/v1/users/{userId}/notifications', 'patch /api/v1/notifications/{id}',
    'post /api/v1/users/{userId}/notifications/read-all', 'delete /api/v1/notifications/{id}', 'post /api/v1/apps/{appId}/webhooks',
    'get /api/v1/apps/{appId}/webhooks', 'patch /api/v1/apps/{appId}/webhooks/{id}', 'delete /api/v1/apps/{appId}/webhooks/{id}',
    'post /api/v1/apps/{appId}/webhooks/{id}/rotate-secret',
  ];
  const operations = Object.entries(doc.paths as Record<string, Record<string, any>>).flatMap(([path, ops]) => Object.entries(ops).map(([method, op]) => ({ key: `${method} ${path}`, op })));
  for (const key of expected) t.ok(operations.some((o) => o.key === key), key);
  t.equal(operations.length, routeSpecs().length, 'one operation per defined route');
  for (const { key, op } of operations) {
    t.ok(op.security?.length, `${key}: security`);
    t.ok(op.responses['401'] && op.responses['500'], `${key}: 401 and 500 documented`);
    if (!expected.includes(key)) continue; // other helpers' endpoints: their specs, their examples
    const success = Object.entries(op.responses).find(([status]) => status.startsWith('2'))!;
    const content = (success[1] as any).content?.['application/json'];
    t.ok(success[0] === '204' || content?.example, `${key}: a response example`);
    if (op.requestBody) t.ok(op.requestBody.content['application/json'].example !== undefined, `${key}: a request example`);
    if (op.responses['429']) {
      t.ok(op.responses['429'].headers['Retry-After'], `${key}: Retry-After on 429`);
      t.ok(op.responses[success[0]].headers['X-RateLimit-Remaining'], `${key}: rate-limit headers`);
    }
    t.equal(op.responses['400']?.content['application/json'].schema.$ref ?? '#/components/schemas/Error', '#/components/schemas/Error');
  }
});

t.test('request and response examples pass the schemas the API validates with', async (t) => {
  for (const spec of routeSpecs()) {
    if (spec.body && spec.requestExample !== undefined) {
      const validate = validatorFor(spec.body, 'body');
      t.ok(validate(structuredClone(spec.requestExample)), `${spec.operationId} request example: ${JSON.stringify(validate.errors)}`);
    }
    if (spec.success.schema && spec.success.example !== undefined) {
      const validate = validatorFor(spec.success.schema, 'body');
      t.ok(validate(structuredClone(spec.success.example)), `${spec.operationId} response example: ${JSON.stringify(validate.errors)}`);
    }
  }
});
