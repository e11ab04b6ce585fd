// A worker process SIGKILLed in the middle of sending a digest (the SMTP server holds the message
// without answering): once a worker runs again the digest is sent once, as the same message.
// The guarantee is at-least-once with a stable Message-ID: the email's id is recorded before the
// SMTP call and is the Message-ID, so had the server accepted the message just before the kill, the
// resend would carry the same Message-ID and a receiving system can recognise it as a duplicate.
// The dead worker's job comes back (heartbeats) before its claim's lease ends, as in production
// (20 s against 120 s; here 1 s against 3 s): the digest waits for the lease, then is resent.
import t from 'tap';
import { startMailCatcher } from '../../lib/dev/mail-catcher.js';
import { inTransaction } from '../../lib/db.js';
import { insertNotifications } from '../../lib/notifications.js';
import { testDatabase } from '../helpers/db.js';
import { finished, startChild } from '../helpers/spawn.js';
import { createTestApp, startTestWorker } from '../helpers/stack.js';
import { until } from './helpers/fixtures.js';

const db = await testDatabase(t);
const app = await createTestApp(db, { id: 'work-buddy', name: 'Work Buddy' });
const catcher = await startMailCatcher();
t.teardown(() => catcher.close());
const emailEnv = { SMTP_URL: catcher.url, PUBLIC_URL: 'http://localhost:3000', EMAIL_LEASE_MS: '3000', EMAIL_TIMEOUT_MS: '60000' };


t.test('SIGKILL mid-send: after a restart the digest is sent once, with the recorded Message-ID', async (t) => {
  let held = 0;
  catcher.reply = (to, attempt) => {
    if (attempt === 1) {
      held += 1;
      return 'stall';
    }
    return 'accept';
  };
  await db.system.query(`insert into oriva.user_preferences (user_id, document) values ('crash', $1)`,
    [{ email: { address: 'crash@example.com', delay_seconds: 0 } }]);
  const child = startChild('worker/main.ts', [], { DATABASE_URL: db.url, WORKER_METRICS_PORT: '0', LOG_LEVEL: 'warn', ...emailEnv });
  const exited = finished(child, 90_000);
  t.teardown(() => child.kill('SIGKILL'));
  const api = db.pool('oriva_api');
  await inTransaction(api, { appId: app.appId }, (client) => insertNotifications(client, app.appId, [
    { external_id: 'c1', user_id: 'crash', notification_type: 'x', title: 'Before the crash', body: 'B' },
    { external_id: 'c2', user_id: 'crash', notification_type: 'x', title: 'Also before', body: 'B' },
  ], { installRequired: false }));

  await until(async () => held === 1, 30_000, 'the worker to be mid-send');
  const { rows: [claimed] } = await db.system.query(`select id, status, attempts from oriva.emails where user_id = 'crash'`);
  t.same({ status: claimed.status, attempts: claimed.attempts }, { status: 'sending', attempts: 0 }, 'the email id was recorded before the SMTP call');
  child.kill('SIGKILL');
  t.equal((await exited).signal, 'SIGKILL', 'the worker died mid-send');

  await startTestWorker(t, db, emailEnv, { pollIntervalMs: 100, heartbeat: { intervalMs: 250, staleAfterMs: 1000 } });
  const [message] = await until(async () => (catcher.messages.length ? catcher.messages : null), 30_000, 'the resent digest');
  await new Promise((r) => setTimeout(r, 1500));
  t.equal(catcher.messages.length, 1, 'sent once');
  t.match(message!.raw.toString(), new RegExp(`Message-ID: <${claimed.id}@localhost>`, 'i'), 'the Message-ID recorded before the crash');
  const { rows: [sent] } = await db.system.query(`select status, attempts from oriva.emails where user_id = 'crash'`);
  t.same(sent, { status: 'sent', attempts: 1 });
  const { rows } = await db.system.query(`select status from oriva.email_deliveries where user_id = 'crash'`);
  t.same(rows.map((r) => r.status), ['sent', 'sent']);
  t.equal(Number((await db.system.query('select count(*) from oriva.emails')).rows[0].count), 1, 'no second email was made');
});
