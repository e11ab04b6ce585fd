// The email channel end to end (issue 15, DESIGN §10), against a real SMTP server on loopback (the
// mail catcher), the real API, worker, gateway and Postgres: one digest for a burst, only what is
// still unread, nothing for a user who is online, quiet hours hold all but urgent, escaping and
// links in the real message, 421 → retried once, 550 → bouncing and paused, a stalled server does
// not hold up others, and the one-click unsubscribe of the message itself.
import { simpleParser, type ParsedMail } from 'mailparser';
import t from 'tap';
import WS from 'ws';
import { startMailCatcher } from '../../lib/dev/mail-catcher.js';
import { signUnsubscribe } from '../../lib/email/unsubscribe.js';
import { testDatabase } from '../helpers/db.js';
import { runChild } from '../helpers/spawn.js';
import { until } from './helpers/fixtures.js';
import { createTestApp, startTestGateway, startTestServer, startTestWorker, TEST_JWT_SECRET, userAuth } from '../helpers/stack.js';

const db = await testDatabase(t);
const app = await createTestApp(db, { id: 'work-buddy', name: 'Work Buddy' });
const catcher = await startMailCatcher();
t.teardown(() => catcher.close());
const server = await startTestServer(t, db);
const gateway = await startTestGateway(t, db);
await startTestWorker(t, db, {
  SMTP_URL: catcher.url, PUBLIC_URL: server.url, EMAIL_FROM: 'Oriva <notify@oriva.test>',
  EMAIL_RETRY_BASE_MS: '300', EMAIL_TIMEOUT_MS: '1500', EMAIL_MAX_ATTEMPTS: '3',
}, { pollIntervalMs: 100 });

async function api(method: string, path: string, auth: Record<string, string>, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${server.url}/api/v1${path}`, {
    method, headers: { ...auth, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: res.status === 204 ? null : await res.json() };
}

async function userWithAddress(userId: string, extra: Record<string, unknown> = {}, delaySeconds = 1) {
  const user = await userAuth(userId);
  const res = await api('PATCH', `/users/${userId}/preferences`, user.auth, { email: { address: `${userId}@example.com`, delay_seconds: delaySeconds }, ...extra });
  if (res.status !== 200) throw new Error(`preferences of ${userId}: ${res.status} ${JSON.stringify(res.body)}`);
  return user;
}

let counter = 0;
async function notify(userId: string, fields: Record<string, unknown> = {}): Promise<string> {
  const res = await api('POST', `/apps/${app.appId}/notifications`, app.auth, {
    external_id: `email-${++counter}`, user_id: userId, notification_type: 'update', title: `Update ${counter}`, body: 'Something happened', ...fields,
  });
  if (res.status !== 201) throw new Error(`notify ${userId}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.notification_id as string;
}


const mailTo = (address: string) => catcher.messages.filter((m) => m.to.includes(address));
const parsed = (raw: Buffer): Promise<ParsedMail> => simpleParser(raw);
const deliveries = async (userId: string) =>
  (await db.system.query<{ status: string; reason: string | null; title: string }>(
    `select d.status, d.reason, n.title from oriva.email_deliveries d join oriva.platform_notifications n on n.id = d.notification_id
      where d.user_id = $1 order by n.created_at, n.title`, [userId])).rows;
const settled = (userId: string) => until(async () => {
  const rows = await deliveries(userId);
  return rows.length > 0 && rows.every((r) => r.status !== 'pending' && r.status !== 'sending') ? rows : null;
}, 10_000, `${userId}'s deliveries to settle`);

t.test('a burst of 20 to an offline user is one email; the one read within the delay is not in it', async (t) => {
  const user = await userWithAddress('burst', {}, 2);
  const ids: string[] = [];
  for (let i = 0; i < 20; i++) ids.push(await notify('burst', { title: `Burst ${i + 1}` }));
  t.equal((await api('PATCH', `/notifications/${ids[4]}`, user.auth, { status: 'read' })).status, 200);
  const [message] = await until(async () => (mailTo('burst@example.com').length ? mailTo('burst@example.com') : null), undefined, 'the digest');
  await new Promise((r) => setTimeout(r, 1500));
  t.equal(mailTo('burst@example.com').length, 1, 'exactly one email');
  const mail = await parsed(message!.raw);
  t.equal(mail.subject, '19 new notifications from Work Buddy');
  t.same(mail.from?.value, [{ address: 'notify@oriva.test', name: 'Oriva' }], 'EMAIL_FROM');
  for (let i = 1; i <= 20; i++) {
    if (i === 5) t.notMatch(mail.text, /Burst 5\n/, 'the notification read before the delay is not listed');
    else t.match(mail.text, new RegExp(`Burst ${i}\\n`));
  }
  t.match(String(mail.html), /Burst 20/);
  t.match(mail.messageId, /^<[0-9a-f-]{36}@127\.0\.0\.1>$/, 'the Message-ID is the recorded email id');
  const rows = await settled('burst');
  t.equal(rows.filter((r) => r.status === 'sent').length, 19);
  t.same(rows.filter((r) => r.status === 'skipped'), [{ status: 'skipped', reason: 'read', title: 'Burst 5' }]);
});

t.test('a user online on a gateway gets no email: each is skipped as online', async (t) => {
  const user = await userWithAddress('online', {}, 1);
  const ws = new WS(`${gateway.url}/api/v1/events/stream`, { headers: { authorization: `Bearer ${user.token}` } });
  t.teardown(() => ws.terminate());
  ws.on('error', () => {}); // a failed connection shows as the registry check below timing out
  // online = a live connection in the gateways' registry (what the digest asks)
  await until(async () => (await db.system.query(`select 1 from oriva.gateway_connections where user_id = 'online'`)).rowCount === 1,
    10_000, 'the connection in the registry');
  for (let i = 0; i < 3; i++) await notify('online');
  const rows = await settled('online');
  t.same(rows.map((r) => [r.status, r.reason]), [['skipped', 'online'], ['skipped', 'online'], ['skipped', 'online']]);
  t.equal(mailTo('online@example.com').length, 0);
});

t.test('quiet hours hold the digest until they end; urgent passes', async (t) => {
  const pad = (n: number) => String(n).padStart(2, '0');
  const now = new Date();
  const at = (minutes: number) => new Date(now.getTime() + minutes * 60_000);
  const hhmm = (d: Date) => `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}`;
  const end = at(90);
  await userWithAddress('quiet', { quiet_hours: { start: hhmm(at(-60)), end: hhmm(end), timezone: 'UTC' } }, 0);
  const expectedEnd = new Date(Date.UTC(end.getUTCFullYear(), end.getUTCMonth(), end.getUTCDate(), end.getUTCHours(), end.getUTCMinutes()));
  const heldDelivery = async () => (await db.system.query<{ status: string; due_at: Date }>(
    `select d.status, d.due_at from oriva.email_deliveries d join oriva.platform_notifications n on n.id = d.notification_id
      where n.title = 'Can wait' and d.user_id = 'quiet'`)).rows[0]!;
  // The non-urgent one alone first: its digest runs, holds it and schedules itself for the end of the
  // quiet hours (the job due now is replaced by one due then). With the urgent one created while that
  // run is under way, the job due now could still be there when the urgent email arrives.
  await notify('quiet', { title: 'Can wait' });
  const job = await until(async () => {
    const { rows: [row] } = await db.owner.query<{ run_at: Date }>(
      `select run_at from graphile_worker.jobs where key = 'email_digest:quiet' and locked_at is null and run_at > now()`);
    return row;
  }, 10_000, 'the digest job to be scheduled after the run that held the email');
  t.equal(job.run_at.toISOString(), expectedEnd.toISOString(), 'the digest job waits for the end of the quiet hours');
  let held = await heldDelivery();
  t.equal(held.status, 'pending');
  t.equal(held.due_at.toISOString(), expectedEnd.toISOString(), 'held until the end of the quiet hours');
  await notify('quiet', { title: 'Cannot wait', priority: 'urgent' });
  const [message] = await until(async () => (mailTo('quiet@example.com').length ? mailTo('quiet@example.com') : null), undefined, 'the urgent email');
  t.equal((await parsed(message!.raw)).subject, 'Work Buddy: Cannot wait', 'the urgent one alone, at once');
  held = await heldDelivery();
  t.same([held.status, held.due_at.toISOString()], ['pending', expectedEnd.toISOString()], 'the other one still held');
});

t.test('app strings are escaped in the HTML part, never reach a header, and only http(s) is linked', async (t) => {
  await userWithAddress('hostile', {}, 0);
  await notify('hostile', {
    title: '<img src=x onerror=alert(1)>', body: 'line one\r\nBcc: victim@example.com\r\n\r\n<script>alert(2)</script>',
    action_url: 'myapp://open/1', action_label: 'Open <b>now</b>', priority: 'urgent',
  });
  const [message] = await until(async () => (mailTo('hostile@example.com').length ? mailTo('hostile@example.com') : null), undefined, 'the email');
  const mail = await parsed(message!.raw);
  const html = String(mail.html);
  t.notMatch(html, /<img src=x/, 'no markup from the title');
  t.match(html, /&lt;img src=x onerror=alert\(1\)&gt;/);
  t.notMatch(html, /<script>/);
  t.notMatch(html, /myapp:/, 'an app scheme is not linked');
  t.equal(mail.subject, 'Work Buddy: <img src=x onerror=alert(1)>', 'the subject is text');
  t.notOk(mail.headers.has('bcc'), 'nothing from a body becomes a header');
  t.same(message!.to, ['hostile@example.com'], 'the only recipient');
  t.match(html, new RegExp(`href="${server.url}/"`), 'a link to the notification center');
});

t.test('421 then 250: delivered once after one retry; 550: bouncing, paused, no more attempts', async (t) => {
  catcher.reply = (to, attempt) => {
    if (to.includes('flaky@example.com') && attempt === 1) return { code: 421, message: 'Try again later' };
    if (to.includes('gone@example.com')) return { code: 550, message: 'No such user' };
    return 'accept';
  };
  t.teardown(() => { catcher.reply = () => 'accept'; });
  await userWithAddress('flaky', {}, 0);
  await userWithAddress('gone', {}, 0);
  await notify('flaky', { title: 'Flaky one' });
  await notify('gone', { title: 'Gone one' });

  await settled('flaky');
  t.equal(mailTo('flaky@example.com').length, 1, 'delivered once');
  const { rows: [flaky] } = await db.system.query(`select status, attempts, last_error from oriva.emails where user_id = 'flaky'`);
  t.same({ status: flaky.status, attempts: flaky.attempts }, { status: 'sent', attempts: 2 }, 'one retry');

  const rows = await settled('gone');
  t.same(rows.map((r) => r.status), ['bouncing']);
  const { rows: [gone] } = await db.system.query(`select status, attempts, last_error from oriva.emails where user_id = 'gone'`);
  t.same({ status: gone.status, attempts: gone.attempts }, { status: 'bouncing', attempts: 1 });
  t.match(gone.last_error, /550/);
  const prefs = await api('GET', '/users/gone/preferences', (await userAuth('gone')).auth);
  t.type(prefs.body.preferences.email.bouncing_since, 'string', 'the preferences show the paused channel');
  await notify('gone', { title: 'After the bounce' });
  await new Promise((r) => setTimeout(r, 500));
  t.same((await deliveries('gone')).map((r) => r.title), ['Gone one'], 'no email is scheduled for a bouncing address');
  t.equal(catcher.messages.filter((m) => m.to.includes('gone@example.com')).length, 0);

  // a new address resumes the channel
  const resumed = await api('PATCH', '/users/gone/preferences', (await userAuth('gone')).auth, { email: { address: 'gone2@example.com' } });
  t.equal(resumed.body.preferences.email.bouncing_since, null);
});

t.test('a server that stalls past the timeout is retried, and others are delivered meanwhile', async (t) => {
  catcher.reply = (to, attempt) => (to.includes('stalled@example.com') && attempt === 1 ? 'stall' : 'accept');
  t.teardown(() => { catcher.reply = () => 'accept'; });
  await userWithAddress('stalled', {}, 0);
  await userWithAddress('bystander', {}, 0);
  await notify('stalled', { title: 'Slow one' });
  await new Promise((r) => setTimeout(r, 200));
  await notify('bystander', { title: 'Meanwhile' });
  await until(async () => mailTo('bystander@example.com').length === 1, undefined, 'the bystander email');
  t.equal(mailTo('stalled@example.com').length, 0, 'the bystander did not wait for the stalled send');
  await settled('stalled');
  t.equal(mailTo('stalled@example.com').length, 1, 'delivered on the retry');
  const { rows: [stalled] } = await db.system.query(`select attempts, last_error from oriva.emails where user_id = 'stalled'`);
  t.equal(stalled.attempts, 2);
  t.match(stalled.last_error, /time|ETIMEDOUT/i);
});

t.test('one-click unsubscribe from the message switches email off; forged and expired tokens change nothing', async (t) => {
  const user = await userWithAddress('leaver', {}, 0);
  await notify('leaver', { title: 'Social thing', category: 'social' });
  const [message] = await until(async () => (mailTo('leaver@example.com').length ? mailTo('leaver@example.com') : null), undefined, 'the email');
  const mail = await parsed(message!.raw);
  const list = mail.headers.get('list') as { unsubscribe?: { url?: string }; 'unsubscribe-post'?: { name?: string } };
  t.equal(list['unsubscribe-post']?.name, 'List-Unsubscribe=One-Click', 'List-Unsubscribe-Post (RFC 8058)');
  const link = list.unsubscribe?.url;
  t.ok(link?.startsWith(`${server.url}/unsubscribe?token=`), 'List-Unsubscribe: a link to this server');
  const revision = async () => (await api('GET', '/users/leaver/preferences', user.auth)).body.preferences.revision as number;
  const before = await revision();

  const forged = link!.replace(/token=(.)/, (_m, c: string) => `token=${c === 'A' ? 'B' : 'A'}`);
  const bad = await fetch(forged, { method: 'POST', body: 'List-Unsubscribe=One-Click', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  t.equal(bad.status, 400);
  t.match(await bad.text(), /This link is not valid/);
  const expiredToken = signUnsubscribe(TEST_JWT_SECRET, { userId: 'leaver', scope: { category: 'social' }, expiresAt: new Date(Date.now() - 1000) });
  const expired = await fetch(`${server.url}/unsubscribe?token=${expiredToken}`, { method: 'POST' });
  t.equal(expired.status, 410);
  const page = await fetch(link!);
  t.equal(page.status, 200);
  t.match(await page.text(), /Stop emails for social notifications\?/);
  t.equal(await revision(), before, 'neither a bad token nor the GET page changed anything');

  const done = await fetch(link!, { method: 'POST', body: 'List-Unsubscribe=One-Click', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  t.equal(done.status, 200);
  t.match(await done.text(), /no longer get emails for social notifications/);
  const prefs = (await api('GET', '/users/leaver/preferences', user.auth)).body.preferences;
  t.equal(prefs.revision, before + 1);
  t.same(prefs.categories.social, { in_app: true, email: false });
  t.same(prefs.categories.system, { in_app: true, email: true }, 'other categories keep their email');
  await notify('leaver', { title: 'Another social thing', category: 'social' });
  await new Promise((r) => setTimeout(r, 300));
  t.same((await deliveries('leaver')).map((r) => r.title), ['Social thing'], 'no email is scheduled any more for social');
});

t.test('GET /notifications/:id/deliveries: each channel with its status and why, for the owner app and platform apps', async (t) => {
  const core = await createTestApp(db, { id: 'oriva-core', name: 'Oriva Core', platform: true });
  const other = await createTestApp(db, { id: 'other-app', name: 'Other' });
  const channels = async (id: string, auth = app.auth) => {
    const res = await api('GET', `/notifications/${id}/deliveries`, auth);
    t.equal(res.status, 200);
    return Object.fromEntries((res.body.deliveries as { channel: string; status: string; reason: string | null }[]).map((d) => [d.channel, `${d.status}:${d.reason}`]));
  };
  const { rows: [read] } = await db.system.query(`select id from oriva.platform_notifications where title = 'Burst 5'`);
  t.same(await channels(read.id), { in_app: 'delivered:null', email: 'skipped:read' });
  const { rows: [sent] } = await db.system.query(`select id from oriva.platform_notifications where title = 'Burst 6'`);
  t.same(await channels(sent.id, core.auth), { in_app: 'delivered:null', email: 'sent:null' }, 'a platform app reads them too');
  const { rows: [held] } = await db.system.query(`select id from oriva.platform_notifications where title = 'Can wait'`);
  t.same(await channels(held.id), { in_app: 'delivered:null', email: 'pending:null' });
  const { rows: [offSocial] } = await db.system.query(`select id from oriva.platform_notifications where title = 'Another social thing'`);
  t.same(await channels(offSocial.id), { in_app: 'delivered:null', email: 'suppressed:category_off' });
  const { rows: [bounced] } = await db.system.query(`select id from oriva.platform_notifications where title = 'After the bounce'`);
  t.same(await channels(bounced.id), { in_app: 'delivered:null', email: 'skipped:bouncing' });
  const noAddress = await notify('nobody-with-an-address');
  t.same(await channels(noAddress), { in_app: 'delivered:null', email: 'skipped:no_address' });
  const mutedUser = await userAuth('muted-all');
  await api('PATCH', '/users/muted-all/preferences', mutedUser.auth, { apps: { 'work-buddy': { muted: true } }, email: { address: 'muted@example.com' } });
  t.same(await channels(await notify('muted-all')), { in_app: 'suppressed:muted_app', email: 'suppressed:muted_app' });

  const foreign = await api('GET', `/notifications/${sent.id}/deliveries`, other.auth);
  t.same([foreign.status, foreign.body.error.code], [403, 'forbidden'], "another app's notification");
  const asUser = await api('GET', `/notifications/${sent.id}/deliveries`, (await userAuth('burst')).auth);
  t.same([asUser.status, asUser.body.error.code], [403, 'forbidden'], 'a user token');
  const unknown = await api('GET', '/notifications/00000000-0000-4000-8000-000000000000/deliveries', app.auth);
  t.same([unknown.status, unknown.body.error.code], [404, 'not_found']);
  const malformed = await api('GET', '/notifications/not-a-uuid/deliveries', app.auth);
  t.equal(malformed.status, 400);
});

t.test('oriva emails --user: pending deliveries and recent emails', async (t) => {
  const oriva = (...args: string[]) => runChild('lib/cli/main.ts', args, { DATABASE_URL: db.url, JWT_SECRET: TEST_JWT_SECRET });
  const quiet = await oriva('emails', '--user', 'quiet');
  t.equal(quiet.code, 0, quiet.stderr);
  const report = JSON.parse(quiet.stdout);
  t.same(report.pending.map((p: { notifications: { title: string }[] }) => p.notifications.map((n) => n.title)), [['Can wait']], 'held by quiet hours');
  t.same(report.recent.map((e: { status: string; attempts: number; notifications: { title: string }[] }) => [e.status, e.attempts, e.notifications.map((n) => n.title)]),
    [['sent', 1, ['Cannot wait']]]);
  const gone = JSON.parse((await oriva('emails', '--user', 'gone')).stdout);
  t.match(gone.recent, [{ status: 'bouncing', attempts: 1, last_error: /550/ }]);
  const bad = await oriva('emails', '--user', 'not a user id');
  t.equal(bad.code, 2);
  t.match(bad.stderr, /^oriva: --user "not a user id" does not match/);
});

t.test('the stats count each notification email once, as sent or failed (issue 17)', async (t) => {
  const { rows: [truth] } = await db.system.query(`select count(*) filter (where status = 'sent')::int as sent,
      count(*) filter (where status in ('failed', 'bouncing'))::int as failed from oriva.email_deliveries`);
  t.ok(truth.sent >= 19 && truth.failed >= 1, 'this file sent and failed emails');
  const from = new Date(Date.now() - 3 * 3_600_000).toISOString();
  const stats = await api('GET', `/apps/${app.appId}/stats?from=${from}&to=${new Date(Date.now() + 3_600_000).toISOString()}`, app.auth);
  t.equal(stats.status, 200);
  t.same([stats.body.totals.emails_sent, stats.body.totals.emails_failed], [truth.sent, truth.failed], 'the rollup agrees with the deliveries');
});
