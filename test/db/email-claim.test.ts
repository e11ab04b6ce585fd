// The digest claim and the sent record in SQL (oriva.email_digest_claim, oriva.email_digests_sent;
// migrations 000023–000024), run as the worker runs them, with no worker: what each schedules next.
// The whole flow over real SMTP is in test/worker/email*.test.ts.
import t from 'tap';
import { inTransaction } from '../../lib/db.js';
import { insertNotifications } from '../../lib/notifications.js';
import { normalise } from '../../lib/preferences.js';
import { testDatabase } from '../helpers/db.js';
import { createTestApp } from '../helpers/stack.js';

const db = await testDatabase(t);
const app = await createTestApp(db, { id: 'claim-app', name: 'Claim App' });
const api = db.pool('oriva_api');

async function user(userId: string, delaySeconds: number) {
  const document = normalise({ email: { address: `${userId}@example.com`, delay_seconds: delaySeconds } });
  await db.system.query('insert into oriva.user_preferences (user_id, document) values ($1, $2)', [userId, JSON.stringify(document)]);
}
const notify = (userId: string, externalId: string) =>
  inTransaction(api, { appId: app.appId }, (client) => insertNotifications(client, app.appId,
    [{ external_id: `${userId}-${externalId}`, user_id: userId, notification_type: 'digest_test', title: externalId, body: 'B' }] as never, { installRequired: false }));
const claim = async (userId: string) =>
  (await db.system.query('select email_id, resend, attempts, items from oriva.email_digest_claim($1, 60000, 30000)', [userId])).rows;
const digestJob = async (userId: string) =>
  (await db.owner.query<{ run_at: Date }>(`select run_at from graphile_worker.jobs where key = $1`, [`email_digest:${userId}`])).rows;
const dropDigestJobs = (userId: string) => db.owner.query(`delete from graphile_worker._private_jobs where key = $1`, [`email_digest:${userId}`]);

t.test('one claim gathers what is pending into one email and moves each delivery', async (t) => {
  await user('u1', 0);
  await notify('u1', 'a');
  await notify('u1', 'b');
  const [claimed] = await claim('u1');
  t.match(claimed, { resend: false, attempts: 0 });
  t.same(claimed.items.map((i: { title: string }) => i.title), ['b', 'a'], 'newest first');
  const { rows } = await db.system.query(`select status, email_id from oriva.email_deliveries where user_id = 'u1'`);
  t.same(rows.map((r) => [r.status, r.email_id]), [['sending', claimed.email_id], ['sending', claimed.email_id]]);
  t.same(await claim('u1'), [], 'nothing left: no second email');
});

t.test('while another worker holds the email: no email, look again when its lease ends; after it, resend', async (t) => {
  await user('u2', 0);
  await notify('u2', 'a');
  await notify('u2', 'b');
  const [first] = await claim('u2');
  await dropDigestJobs('u2');
  t.same(await claim('u2'), [], 'held: nothing to send here');
  const { rows: [email] } = await db.system.query(`select lease_until from oriva.emails where id = $1`, [first.email_id]);
  t.same((await digestJob('u2')).map((j) => j.run_at.getTime()), [email.lease_until.getTime()], 'scheduled at the end of the lease');
  await db.system.query(`update oriva.emails set lease_until = now() - interval '1 second' where id = $1`, [first.email_id]);
  const [again] = await claim('u2');
  t.match(again, { email_id: first.email_id, resend: true });
  t.same(again.items, first.items, 'a resend lists the same items, in the same shape (oriva.email_items)');
});

t.test('sent: a notification that arrived during the send is scheduled at its own due time', async (t) => {
  await user('u3', 300);
  await notify('u3', 'a');
  await db.system.query(`update oriva.email_deliveries set due_at = now() where user_id = 'u3'`);
  const [claimed] = await claim('u3');
  await notify('u3', 'late');
  await dropDigestJobs('u3');
  await db.system.query('select oriva.email_digests_sent($1::uuid[])', [[claimed.email_id]]);
  const { rows: [late] } = await db.system.query(`select due_at from oriva.email_deliveries where user_id = 'u3' and status = 'pending'`);
  t.same((await digestJob('u3')).map((j) => j.run_at.getTime()), [late.due_at.getTime()], 'its digest job, at its due time');
  const { rows: [email] } = await db.system.query(`select status, attempts from oriva.emails where id = $1`, [claimed.email_id]);
  t.same(email, { status: 'sent', attempts: 1 });
});
