// An SMTP server that refuses the connection (nothing listens): each attempt is a recorded
// temporary failure, retried with growing waits, until the last attempt marks the email failed.
import t from 'tap';
import { freePort } from '../../lib/listen.js';
import { testDatabase } from '../helpers/db.js';
import { createTestApp, startTestServer, startTestWorker, userAuth } from '../helpers/stack.js';

const db = await testDatabase(t);
const app = await createTestApp(db, { id: 'work-buddy', name: 'Work Buddy' });
const server = await startTestServer(t, db);
const closedPort = await freePort();
await startTestWorker(t, db, {
  SMTP_URL: `smtp://127.0.0.1:${closedPort}`, PUBLIC_URL: server.url, EMAIL_RETRY_BASE_MS: '150', EMAIL_MAX_ATTEMPTS: '3',
}, { pollIntervalMs: 50 });

t.test('connection refused: retried with backoff, then failed', async (t) => {
  const user = await userAuth('refused');
  const headers = { 'content-type': 'application/json' };
  t.equal((await fetch(`${server.url}/api/v1/users/refused/preferences`, {
    method: 'PATCH', headers: { ...headers, ...user.auth }, body: JSON.stringify({ email: { address: 'refused@example.com', delay_seconds: 0 } }),
  })).status, 200);
  t.equal((await fetch(`${server.url}/api/v1/apps/work-buddy/notifications`, {
    method: 'POST', headers: { ...headers, ...app.auth }, body: JSON.stringify({ external_id: 'r1', user_id: 'refused', notification_type: 'x', title: 'T', body: 'B' }),
  })).status, 201);
  const started = Date.now();
  let email: { status: string; attempts: number; last_error: string } | undefined;
  while (Date.now() - started < 15_000) {
    [email] = (await db.system.query(`select status, attempts, last_error from oriva.emails where user_id = 'refused'`)).rows;
    if (email?.status === 'failed') break;
    await new Promise((r) => setTimeout(r, 50));
  }
  t.same({ status: email?.status, attempts: email?.attempts }, { status: 'failed', attempts: 3 }, 'three attempts, then failed');
  t.match(email?.last_error, /ECONNREFUSED/);
  t.ok(Date.now() - started >= 150 + 600, 'the retries waited 150 ms, then 600 ms');
  const { rows } = await db.system.query(`select status, reason from oriva.email_deliveries where user_id = 'refused'`);
  t.match(rows, [{ status: 'failed', reason: /ECONNREFUSED/ }]);
});
