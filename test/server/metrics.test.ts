import t from 'tap';
import { testDatabase } from '../helpers/db.js';
import { createTestApp, startTestServer } from '../helpers/stack.js';

const db = await testDatabase(t);
const server = await startTestServer(t, db);
const app = await createTestApp(db);

t.test('/metrics counts requests by route pattern and status, in Prometheus text', async (t) => {
  await fetch(`${server.url}/api/v1/apps/${app.appId}/events`, { headers: app.auth });
  await fetch(`${server.url}/api/v1/apps/${app.appId}/events`, { headers: { authorization: 'Bearer oriva_sk_wrong' } });
  const response = await fetch(`${server.url}/metrics`);
  t.equal(response.status, 200);
  t.match(response.headers.get('content-type'), /^text\/plain/);
  const text = await response.text();
  t.match(text, /oriva_http_requests_total\{method="GET",route="\/api\/v1\/apps\/:appId\/events",status="200"\} 1/);
  t.match(text, /oriva_http_requests_total\{method="GET",route="unmatched",status="401"\} 1/, 'refused before routing');
  t.match(text, /oriva_http_request_duration_seconds_bucket\{le="\+Inf",method="GET",route="\/api\/v1\/apps\/:appId\/events"\} 1/);
  t.notMatch(text, new RegExp(app.apiKey), 'no credential in labels');
  t.match(text, /process_resident_memory_bytes/);
});
