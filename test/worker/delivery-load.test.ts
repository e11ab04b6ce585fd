// The attempts a worker starts while a load runs are loaded together next, in one query
// (worker/deliveries/prepare.ts): each still gets its own answer — ready with its own body, or the
// reason there is nothing to send — whatever the others in the same load are.
import t from 'tap';
import { testDatabase } from '../helpers/db.js';
import { createTestApp, testConfig } from '../helpers/stack.js';
import { makePreparer } from '../../worker/deliveries/prepare.js';
import { insertEvent, insertWebhook } from './helpers/fixtures.js';

const db = await testDatabase(t);
const app = await createTestApp(db, { id: 'work-buddy' });
const other = await createTestApp(db, { id: 'hugo-ai' });

t.test('one load for the attempts that start together, an answer for each', async (t) => {
  const hook = await insertWebhook(db.system, app.appId, { url: 'https://hooks.example/a', events: ['*'] });
  const disabled = await insertWebhook(db.system, app.appId, { url: 'https://hooks.example/b', events: ['*'] });
  await db.system.query('update oriva.app_webhooks set is_active = false where id = $1', [disabled.id]);
  const own = await insertEvent(db.system, app.appId, 'session.started', { n: 1 });
  const second = await insertEvent(db.system, app.appId, 'session.ended', { n: 2 });
  const archived = await insertEvent(db.system, app.appId, 'session.paused', { n: 3 });
  await db.owner.query(
    `with moved as (delete from oriva.platform_events where id = $1 returning *)
     insert into oriva.platform_events_archive (id, seq, tx_id, app_id, user_id, event_category, event_type, entity_type, entity_id,
                                                event_data, ip_address, user_agent, created_at, reaches_user)
     select id, seq, tx_id, app_id, user_id, event_category, event_type, entity_type, entity_id, event_data, ip_address,
            user_agent, created_at, reaches_user from moved`, [archived]);
  const foreign = await insertEvent(db.system, other.appId, 'session.started');

  const pool = db.pool('oriva_system');
  let queries = 0;
  pool.on('acquire', () => queries++);
  const prepare = makePreparer(pool, testConfig().secrets);
  const attempt = (webhookId: string, eventId: string) => ({ webhook_id: webhookId, event_id: eventId, delivery_id: `msg_${eventId}`, attempt: 1 });
  const missing = '00000000-0000-4000-8000-000000000000';
  const [first, ...together] = await Promise.all([
    prepare(attempt(hook.id, own)),
    prepare(attempt(hook.id, second)),
    prepare(attempt(missing, own)),
    prepare(attempt(disabled.id, own)),
    prepare(attempt(hook.id, archived)),
    prepare(attempt(hook.id, foreign)),
    prepare(attempt(hook.id, missing)),
  ]);
  t.equal(queries, 2, 'the first attempt loaded alone, the six that started meanwhile in one query');

  const body = (p: typeof first) => (p.ready === true ? JSON.parse(p.delivery.body) : null);
  t.match(first, { ready: true, delivery: { eventId: own, eventType: 'session.started', webhook: { id: hook.id, webhook_secret: hook.secret } } });
  t.match(body(first), { type: 'session.started', data: { event_id: own, event_data: { n: 1 } } });
  t.match(together[0], { ready: true, delivery: { eventId: second, job: { event_id: second } } });
  t.match(body(together[0]), { type: 'session.ended', data: { event_id: second, event_data: { n: 2 } } });
  t.same(together[1], { ready: false, reason: 'webhook no longer exists' });
  t.same(together[2], { ready: false, reason: 'webhook is disabled' });
  t.match(body(together[3]), { type: 'session.paused', data: { event_id: archived, event_data: { n: 3 } } }, 'an archived event is still sent');
  t.same(together[4], { ready: false, reason: 'event belongs to another app' });
  t.same(together[5], { ready: false, reason: 'event no longer exists' });
});
