// A broadcast's email channel (issue 16 with DESIGN §10), against a real SMTP server on loopback:
// the worker's broadcast_emails task gives each offline recipient with an address a delivery in
// their digest; a member who muted the app, a member without an address, a user outside the topic,
// and a recipient who read it within the delay get no email.
import { simpleParser } from 'mailparser';
import t from 'tap';
import { startMailCatcher } from '../../lib/dev/mail-catcher.js';
import { testDatabase } from '../helpers/db.js';
import { until } from './helpers/fixtures.js';
import { createTestApp, startTestServer, startTestWorker, userAuth } from '../helpers/stack.js';

const db = await testDatabase(t);
const core = await createTestApp(db, { id: 'oriva-core', name: 'Oriva Core', platform: true });
const app = await createTestApp(db, { id: 'work-buddy', name: 'Work Buddy' });
const catcher = await startMailCatcher();
t.teardown(() => catcher.close());
const server = await startTestServer(t, db, { INSTALL_REQUIRED: 'true' });
await startTestWorker(t, db, { SMTP_URL: catcher.url, PUBLIC_URL: server.url, EMAIL_FROM: 'Oriva <notify@oriva.test>' }, { pollIntervalMs: 100 });

async function api(method: string, path: string, auth: Record<string, string>, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${server.url}/api/v1${path}`, {
    method, headers: { ...auth, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: res.status === 204 ? null : await res.json() };
}

t.test('each offline recipient with an address gets the broadcast in their digest; nobody else', async (t) => {
  const users: Record<string, Awaited<ReturnType<typeof userAuth>>> = {};
  for (const id of ['amy', 'bea', 'cal', 'dee', 'ora']) {
    users[id] = await userAuth(id);
    t.equal((await api('PUT', `/users/${id}/apps/${app.appId}`, core.auth)).status, 201);
  }
  const prefs = async (id: string, doc: Record<string, unknown>) => t.equal((await api('PATCH', `/users/${id}/preferences`, users[id]!.auth, doc)).status, 200);
  await prefs('amy', { email: { address: 'amy@example.com', delay_seconds: 1 } });
  await prefs('bea', { email: { address: 'bea@example.com', delay_seconds: 1 }, apps: { 'work-buddy': { muted: true } } });
  await prefs('dee', { email: { address: 'dee@example.com', delay_seconds: 2 } });
  await prefs('ora', { email: { address: 'ora@example.com', delay_seconds: 1 } });
  // cal has no address; ora is not in the topic
  t.equal((await api('PUT', `/apps/${app.appId}/topics/beta/subscribers`, app.auth, { user_ids: ['amy', 'bea', 'cal', 'dee'] })).status, 200);

  const sent = await api('POST', `/apps/${app.appId}/broadcasts`, app.auth, {
    external_id: 'release-2', notification_type: 'release', title: 'Version 2 <is> out', body: 'See what is new', audience: { topic: 'beta' },
  });
  t.equal(sent.status, 202);
  const id = sent.body.broadcast_id as string;
  const scheduled = await until(async () => {
    const { rows } = await db.system.query<{ user_id: string }>('select user_id from oriva.email_deliveries where notification_id = $1 order by user_id', [id]);
    return rows.length === 2 ? rows.map((r) => r.user_id) : null;
  }, 10_000, 'the broadcast deliveries');
  t.same(scheduled, ['amy', 'dee'], 'a delivery for amy and dee only (bea muted the app, cal has no address, ora is not in the topic)');
  t.equal((await api('PATCH', `/notifications/${id}`, users.dee!.auth, { status: 'read' })).status, 200, 'dee reads it within her delay');

  const [mail] = await until(async () => (catcher.messages.some((m) => m.to.includes('amy@example.com')) ? catcher.messages.filter((m) => m.to.includes('amy@example.com')) : null), 15_000, "amy's digest");
  const parsed = await simpleParser(mail!.raw);
  t.match(parsed.text, /Version 2 <is> out/, 'the broadcast is in the text part');
  t.match(String(parsed.html), /Version 2 &lt;is&gt; out/, 'escaped in the HTML part');
  const deliveries = await until(async () => {
    const { rows } = await db.system.query<{ user_id: string; status: string; reason: string | null }>(
      'select user_id, status, reason from oriva.email_deliveries where notification_id = $1 order by user_id', [id]);
    return rows.every((r) => r.status !== 'pending' && r.status !== 'sending') ? rows : null;
  }, 15_000, 'the deliveries to settle');
  t.same(deliveries, [{ user_id: 'amy', status: 'sent', reason: null }, { user_id: 'dee', status: 'skipped', reason: 'read' }], "dee's was skipped: she read it");
  t.notOk(catcher.messages.some((m) => m.to.includes('dee@example.com') || m.to.includes('bea@example.com') || m.to.includes('ora@example.com')), 'no email to anyone else');
});
