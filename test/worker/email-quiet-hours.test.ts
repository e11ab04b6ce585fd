// Quiet hours end to end with a short window (issue 15): a notification created inside the user's
// quiet hours is emailed when they end — at the window's end, not before — while an urgent one is
// emailed at once. The window ends at the next minute boundary at least 20 s away (HH:MM resolution).
import t from 'tap';
import { startMailCatcher } from '../../lib/dev/mail-catcher.js';
import { inTransaction } from '../../lib/db.js';
import { insertNotifications } from '../../lib/notifications.js';
import { normalise } from '../../lib/preferences.js';
import { testDatabase } from '../helpers/db.js';
import { createTestApp, startTestWorker } from '../helpers/stack.js';

const db = await testDatabase(t);
const app = await createTestApp(db, { id: 'work-buddy', name: 'Work Buddy' });
const catcher = await startMailCatcher();
t.teardown(() => catcher.close());
await startTestWorker(t, db, { SMTP_URL: catcher.url, PUBLIC_URL: 'http://localhost:3000' }, { pollIntervalMs: 100 });

t.test('held until the quiet hours end, then sent; urgent passes at once', { timeout: 120_000 }, async (t) => {
  const pad = (n: number) => String(n).padStart(2, '0');
  const hhmm = (d: Date) => `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}`;
  const now = Date.now();
  const end = new Date(Math.ceil((now + 20_000) / 60_000) * 60_000); // the next minute boundary ≥ 20 s away
  const start = new Date(end.getTime() - 3 * 3600_000);
  await db.system.query(`insert into oriva.user_preferences (user_id, document) values ('sleeper', $1)`,
    [normalise({ email: { address: 'sleeper@example.com', delay_seconds: 0 }, quiet_hours: { start: hhmm(start), end: hhmm(end), timezone: 'UTC' } })]);
  const create = (externalId: string, title: string, priority = 'normal') => inTransaction(db.pool('oriva_api'), { appId: app.appId }, (client) =>
    insertNotifications(client, app.appId, [{ external_id: externalId, user_id: 'sleeper', notification_type: 'x', title, body: 'B', priority }], { installRequired: false }));
  await create('q1', 'Can wait');
  await create('q2', 'Wake me', 'urgent');

  const first = Date.now();
  while (catcher.messages.length < 1 && Date.now() - first < 10_000) await new Promise((r) => setTimeout(r, 50));
  t.equal(catcher.messages.length, 1, 'the urgent one at once');
  t.match(catcher.messages[0]!.raw.toString(), /Subject: Work Buddy: Wake me/);

  while (catcher.messages.length < 2 && Date.now() < end.getTime() + 15_000) await new Promise((r) => setTimeout(r, 100));
  t.equal(catcher.messages.length, 2, 'the held one, once the quiet hours ended');
  const sentAt = catcher.messages[1]!.receivedAt.getTime();
  t.ok(sentAt >= end.getTime(), `not before the end (${new Date(sentAt).toISOString()} ≥ ${end.toISOString()})`);
  t.ok(sentAt < end.getTime() + 5000, 'within 5 s of the end');
  t.match(catcher.messages[1]!.raw.toString(), /Subject: Work Buddy: Can wait/);
});
