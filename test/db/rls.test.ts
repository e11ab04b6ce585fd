// Row-level security and least privilege, checked directly as the runtime role.
import t from 'tap';
import { inTransaction } from '../../lib/db.js';
import { testDatabase } from '../helpers/db.js';
import { createTestApp } from '../helpers/stack.js';

const db = await testDatabase(t);
const appA = await createTestApp(db, { id: 'app-a' });
const appB = await createTestApp(db, { id: 'app-b' });
const core = await createTestApp(db, { id: 'oriva-core', platform: true });

// Setup: one notification (with its state and event) per app, for two users.
for (const [app, user] of [[appA.appId, 'user_1'], [appB.appId, 'user_1'], [appB.appId, 'user_2']] as const) {
  await db.system.query(
    `with n as (insert into oriva.platform_notifications (app_id, external_id, user_id, notification_type, title, body)
                values ($1, $1 || '-' || $2, $2, 'test', 'Title', 'Body') returning id, app_id, user_id)
     , s as (insert into oriva.notification_state (notification_id, app_id, user_id) select id, app_id, user_id from n)
     insert into oriva.platform_events (app_id, user_id, event_category, event_type, entity_type, entity_id)
     select app_id, user_id, 'notification', 'created', 'notification', id::text from n`,
    [app, user],
  );
}

const api = db.pool('oriva_api');
const visible = (actor: Parameters<typeof inTransaction>[1], table: string) =>
  inTransaction(api, actor, async (c) => (await c.query(`select app_id, user_id from oriva.${table} order by app_id, user_id`)).rows);

for (const table of ['platform_notifications', 'notification_state', 'platform_events']) {
  t.test(`${table}: a query with no filter sees only the acting tenant's rows`, async (t) => {
    t.same(await visible({ appId: 'app-a' }, table), [{ app_id: 'app-a', user_id: 'user_1' }], 'app A sees only its row');
    t.same(await visible({ appId: 'app-b' }, table), [
      { app_id: 'app-b', user_id: 'user_1' },
      { app_id: 'app-b', user_id: 'user_2' },
    ], 'app B sees only its rows');
    t.same(await visible({ userId: 'user_2' }, table), [{ app_id: 'app-b', user_id: 'user_2' }], 'a user sees only their rows');
    t.same(await visible({}, table), [], 'nobody acting: nothing visible');
    t.equal((await visible({ appId: core.appId, platform: true }, table)).length, 3, 'a platform app acts for everyone');
  });
}

t.test('an app cannot write rows for another app', async (t) => {
  await t.rejects(
    inTransaction(api, { appId: 'app-a' }, (c) =>
      c.query(`insert into oriva.platform_events (app_id, user_id, event_category, event_type, entity_type, entity_id)
               values ('app-b', 'user_9', 'x', 'y', 'z', '1')`),
    ),
    { code: '42501' },
    'row-level security refuses the insert',
  );
  const { rows } = await db.system.query(`select count(*)::int as n from oriva.platform_events where user_id = 'user_9'`);
  t.equal(rows[0].n, 0, 'nothing was written');
});

t.test('the runtime role cannot drop or alter tables', async (t) => {
  for (const statement of [
    'drop table oriva.platform_events',
    'alter table oriva.platform_notifications add column x int',
    'alter table oriva.platform_notifications disable row level security',
    'truncate oriva.platform_events',
    'create table oriva.sneaky (id int)',
  ]) {
    await t.rejects(api.query(statement), { code: '42501' }, statement);
  }
  const { rows } = await api.query('select current_user');
  t.equal(rows[0].current_user, 'oriva_api', 'pooled connections run as oriva_api');
});

t.test('the runtime role is neither owner nor BYPASSRLS nor superuser', async (t) => {
  const { rows } = await db.system.query(`select rolsuper, rolbypassrls from pg_roles where rolname = 'oriva_api'`);
  t.same(rows, [{ rolsuper: false, rolbypassrls: false }]);
  const owners = await db.system.query(`select distinct tableowner from pg_tables where schemaname = 'oriva'`);
  t.notOk(owners.rows.some((r) => r.tableowner === 'oriva_api'), 'oriva_api owns no table');
});
