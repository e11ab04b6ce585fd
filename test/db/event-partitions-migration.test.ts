// Migration 000017 converts an existing event log to the partitioned one without losing an event: a
// database migrated to 000016 gets events in eight months (two of the oldest events already archived), then the
// migration runs; every event is still there, unchanged, in its month's partition, seq continues,
// the triggers fire, resume reads across partitions, and the schema is the one sql/schema.sql shows.
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import t from 'tap';
import { makePool } from '../../lib/db.js';
import { createDatabase, dropDatabase, scratchDir } from '../../lib/dev/scratch.js';
import { migrateDatabase } from '../../lib/migrate.js';
import { fromRoot } from '../../lib/paths.js';
import { dumpSchema } from '../../lib/schema-dump.js';
import { sqlFile, sqlStatement, valuesOf } from '../../lib/sql.js';
import { readRunState } from '../helpers/run-state.js';

const CONVERSION = '000017-';

// A migrations folder holding the committed migrations before the conversion.
const before = scratchDir('oriva-migrations-before');
mkdirSync(`${before}/committed`);
mkdirSync(`${before}/current`);
for (const file of readdirSync(fromRoot('migrations', 'committed')).filter((f) => f.endsWith('.sql') && f < CONVERSION)) {
  copyFileSync(fromRoot('migrations', 'committed', file), `${before}/committed/${file}`);
}
t.teardown(() => rmSync(before, { recursive: true, force: true }));

const { adminUrl } = readRunState();
const name = `oriva_t_${randomBytes(6).toString('hex')}`;
const url = await createDatabase(adminUrl, name);
const system = makePool(url, { role: 'oriva_system', max: 2, applicationName: 'oriva-test' });
const owner = new pg.Pool({ connectionString: url, max: 1 });
t.teardown(async () => {
  await Promise.all([system.end(), owner.end()]);
  await dropDatabase(adminUrl, name);
});

await migrateDatabase(url, { migrationsFolder: before });
const newestApplied = async () =>
  (await owner.query<{ filename: string }>('select filename from graphile_migrate.migrations order by filename desc limit 1')).rows[0]!.filename;
const appliedBefore = await newestApplied();

// The old schema: one table. Events in this month and the seven before it (four each, one of them
// with every optional column, one that does not reach its user), two of the oldest already archived.
await owner.query(`insert into oriva.apps (id, name) values ('old-app', 'Old App'), ('other-app', 'Other App')`);
await owner.query(`insert into oriva.app_webhooks (app_id, webhook_url, webhook_secret, subscribed_events)
                   values ('old-app', 'https://receiver.example/hook', 'whsec_dGVzdHRlc3R0ZXN0dGVzdHRlc3R0ZXN0', '{task.*}')`);
await system.query(`
  insert into oriva.platform_events (app_id, user_id, event_category, event_type, entity_type, entity_id, event_data, ip_address,
                                     user_agent, reaches_user, created_at)
  select case when i % 3 = 0 then 'other-app' else 'old-app' end, case when i % 2 = 0 then 'ola' else 'ole' end,
         'task', 'updated', 'task', 'task-' || m || '-' || i, jsonb_build_object('month', m, 'i', i),
         case when i = 1 then '10.1.2.3'::inet end, case when i = 1 then 'agent/1.0' end, i <> 2,
         date_trunc('month', now() at time zone 'UTC') at time zone 'UTC' - make_interval(months => m) + make_interval(days => i, hours => i)
    from generate_series(7, 0, -1) m, generate_series(1, 4) i
   order by m desc, i`);
await system.query(`
  with moved as (delete from oriva.platform_events where event_data->>'month' = '7' and (event_data->>'i')::int <= 2 returning *)
  insert into oriva.platform_events_archive
    (id, seq, tx_id, app_id, user_id, event_category, event_type, entity_type, entity_id, event_data, ip_address, user_agent, created_at, reaches_user)
  select id, seq, tx_id, app_id, user_id, event_category, event_type, entity_type, entity_id, event_data, ip_address, user_agent, created_at, reaches_user
    from moved`);
const snapshot = async (table: string) =>
  (await owner.query<{ e: Record<string, unknown> }>(`select to_jsonb(e) - 'archived_at' as e from oriva.${table} e order by seq`)).rows.map((r) => r.e);
const liveBefore = await snapshot('platform_events');
const archivedBefore = await snapshot('platform_events_archive');
const { rows: [sequence] } = await owner.query<{ last_value: string }>('select last_value from oriva.platform_events_seq_seq');
const jobsBefore = (await owner.query<{ n: number }>('select count(*)::int as n from graphile_worker._private_jobs')).rows[0]!.n;

await migrateDatabase(url);

t.test('the conversion ran', async (t) => {
  t.match(appliedBefore, /^000016\b/, 'the database was set up at the migration before the conversion');
  const { rows: conversion } = await owner.query(`select 1 from graphile_migrate.migrations where filename like '000017%'`);
  t.equal(conversion.length, 1, 'then the conversion was applied (and any migration committed after it)');
  const { rows: kind } = await owner.query<{ relkind: string }>(`select relkind from pg_class where oid = 'oriva.platform_events'::regclass`);
  t.same(kind, [{ relkind: 'p' }], 'platform_events is partitioned');
  t.equal(await dumpSchema(system), readFileSync(fromRoot('sql', 'schema.sql'), 'utf8'), 'the schema is the one sql/schema.sql shows (as a fresh database gets it)');
});

t.test('every event is still there, unchanged, and the archive too', async (t) => {
  t.equal(liveBefore.length, 30, '30 live events before');
  t.same(await snapshot('platform_events'), liveBefore, 'every column of every live event (id, seq, tx_id, data, created_at, …)');
  t.same(await snapshot('platform_events_archive'), archivedBefore, 'the archive untouched');
});

t.test('each event sits in the partition of its UTC month; the default partition is empty', async (t) => {
  const { rows } = await owner.query<{ misplaced: number; partitions: number; in_default: number }>(`
    select count(*) filter (where tableoid::regclass::text <> 'oriva.platform_events_p' || to_char(created_at at time zone 'UTC', 'YYYY_MM'))::int as misplaced,
           count(distinct tableoid)::int as partitions,
           count(*) filter (where tableoid = 'oriva.platform_events_default'::regclass)::int as in_default
      from oriva.platform_events`);
  t.same(rows, [{ misplaced: 0, partitions: 8, in_default: 0 }], 'eight months, each in its own partition');
  const { rows: next } = await owner.query<{ exists: boolean }>(`
    select to_regclass('oriva.platform_events_p' || to_char(now() at time zone 'UTC' + interval '1 month', 'YYYY_MM')) is not null as exists`);
  t.same(next, [{ exists: true }], "next month's partition is made too");
});

t.test('new events continue the sequence and fire the triggers', async (t) => {
  const { rows } = await system.query<{ id: string; seq: string }>(`
    select id, seq from oriva.record_events(array[row('old-app', 'ola', 'task', 'created', 'task', 'fresh', '{}', null, null, true)::oriva.new_event])`);
  t.ok(Number(rows[0]!.seq) > Number(sequence!.last_value), `seq ${rows[0]!.seq} after the last one handed out (${sequence!.last_value})`);
  const { rows: [where] } = await owner.query<{ p: string; month: string }>(
    `select tableoid::regclass::text as p, 'oriva.platform_events_p' || to_char(now() at time zone 'UTC', 'YYYY_MM') as month from oriva.platform_events where id = $1`, [rows[0]!.id]);
  t.equal(where!.p, where!.month, "in this month's partition");
  const jobs = (await owner.query<{ n: number }>('select count(*)::int as n from graphile_worker._private_jobs')).rows[0]!.n;
  t.equal(jobs, jobsBefore + 1, 'the webhook fan-out enqueued its delivery');
});

t.test('resume and the archived check read across the partitions', async (t) => {
  const replay = sqlStatement<{ after: number; up_to: number; user_id: string | null; app_id: string | null; max_rows: number }>('gateway/replay');
  const oldest = Number(liveBefore[0]!.seq);
  const newest = Number(liveBefore.at(-1)!.seq);
  const { rows } = await system.query<{ seq: string }>(replay.text, valuesOf(replay, { after: oldest - 1, up_to: newest, user_id: 'ola', app_id: null, max_rows: 1000 }));
  const expected = liveBefore.filter((e) => e.user_id === 'ola' && e.reaches_user).map((e) => String(e.seq));
  t.same(rows.map((r) => String(r.seq)), expected, "a user's events of every month, in seq order");
  t.ok(expected.length >= 8, `${expected.length} events`);
  const archivedAfter = sqlFile('gateway/archived_after');
  const gap = async (after: number) => (await system.query<{ archived: boolean }>(archivedAfter.text, [after])).rows[0]!.archived;
  t.equal(await gap(Number(archivedBefore[0]!.seq) - 1), true, 'a resume point before the archived events: archived');
  t.equal(await gap(Math.max(...archivedBefore.map((e) => Number(e.seq)))), false, 'one after them: not');
});
