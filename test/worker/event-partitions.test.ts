// The event log partitioned by month: partitions made ahead (event_partitions_ensure), a write no
// month partition covers kept in the default partition and moved when its month is made, archival by
// whole partitions (and the default partition's old rows), the gateway still told that a resume
// point was archived, archival giving up rather than stalling the table behind a long reader, the
// triggers firing per statement across partitions, and partitions reachable only through the parent.
import pg from 'pg';
import t from 'tap';
import { createApp } from '../../lib/apps.js';
import { sqlFile } from '../../lib/sql.js';
import { ensureEventPartitions } from '../../worker/tasks/event_partitions_ensure.js';
import { archiveOldRows } from '../../worker/tasks/old_rows_archive.js';
import { testDatabase } from '../helpers/db.js';
import { insertWebhook } from './helpers/fixtures.js';

const db = await testDatabase(t);
const APP = 'partitioned';
await createApp(db.system, { id: APP, name: 'Partitioned' });
const DAY = 86_400_000;

interface Event {
  id: string;
  seq: string;
  created_at: Date;
  event_data: unknown;
}

/** Insert events (one statement) with the given created_at values; returned in insertion order. */
async function insertAt(...createdAt: (Date | string)[]): Promise<Event[]> {
  const { rows } = await db.system.query<Event>(
    `insert into oriva.platform_events (app_id, user_id, event_category, event_type, entity_type, entity_id, event_data, created_at)
     select $1, 'uma', 'task', 'updated', 'task', 'task-' || i, jsonb_build_object('i', i), at
       from unnest($2::timestamptz[]) with ordinality as a(at, i)
     returning id, seq, created_at, event_data`,
    [APP, createdAt],
  );
  return rows;
}

const partitionOf = async (id: string) =>
  (await db.system.query<{ p: string }>('select tableoid::regclass::text as p from oriva.platform_events where id = $1', [id])).rows[0]?.p ?? null;

const monthPartitions = async () =>
  (await db.owner.query<{ name: string }>(`
    select c.relname as name from pg_inherits i join pg_class c on c.oid = i.inhrelid
     where i.inhparent = 'oriva.platform_events'::regclass order by 1`)).rows.map((r) => r.name);

/** platform_events_pYYYY_MM of the UTC month `offset` months from now. */
function monthName(offset: number, from = new Date()): string {
  const d = new Date(Date.UTC(from.getUTCFullYear(), from.getUTCMonth() + offset, 1));
  return `platform_events_p${d.getUTCFullYear()}_${String(d.getUTCMonth() + 1).padStart(2, '0')}`;
}

const makePartition = async (month: string) =>
  (await db.owner.query<{ made: string | null }>('select oriva.create_event_partition($1::date) as made', [month])).rows[0]!.made;

t.test('the migration made this month, the next and a default partition', async (t) => {
  const parts = await monthPartitions();
  t.ok(parts.includes(monthName(0)) && parts.includes(monthName(1)), `this month and the next: ${parts.join(', ')}`);
  t.ok(parts.includes('platform_events_default'), 'the default partition');
  const [now] = await insertAt(new Date());
  t.equal(await partitionOf(now!.id), `oriva.${monthName(0)}`, 'a new event goes to its month');
});

t.test('event_partitions_ensure makes this month and the next two, once', async (t) => {
  const made = await ensureEventPartitions(db.system);
  t.same(made, [monthName(2)], 'the one missing');
  t.ok((await monthPartitions()).includes(monthName(2)), `${monthName(2)} exists`);
  t.same(await ensureEventPartitions(db.system), [], 'nothing the second time');
});

t.test('a write no month partition covers lands in the default partition, and moves when its month is made', async (t) => {
  const [early, later] = await insertAt('2020-03-15T12:00:00Z', '2020-03-31T23:59:59.999Z');
  t.equal(await partitionOf(early!.id), 'oriva.platform_events_default', 'the write did not fail');
  t.equal(await makePartition('2020-03-20'), 'platform_events_p2020_03', 'the month is made');
  t.equal(await makePartition('2020-03-01'), null, 'only once');
  const { rows } = await db.system.query<Event & { p: string }>(
    'select id, seq, created_at, event_data, tableoid::regclass::text as p from oriva.platform_events where id = any($1) order by seq', [[early!.id, later!.id]]);
  t.same(rows.map((r) => [r.id, r.seq, r.created_at.toISOString(), r.event_data, r.p]), [
    [early!.id, early!.seq, early!.created_at.toISOString(), early!.event_data, 'oriva.platform_events_p2020_03'],
    [later!.id, later!.seq, later!.created_at.toISOString(), later!.event_data, 'oriva.platform_events_p2020_03'],
  ], 'same id, seq, time and data, in the month partition');
  t.equal((await db.system.query('select 1 from oriva.platform_events_default where id = any($1)', [[early!.id, later!.id]])).rowCount, 0, 'no longer in the default partition');
});

t.test('archival: months past retention go whole, the default partition row by row, the month holding the cutoff stays', async (t) => {
  const now = new Date();
  const cutoff = new Date(now.getTime() - 90 * DAY);
  const oldMonth = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 5, 1));
  const cutoffMonth = new Date(Date.UTC(cutoff.getUTCFullYear(), cutoff.getUTCMonth(), 1));
  await makePartition(oldMonth.toISOString().slice(0, 10));
  await makePartition(cutoffMonth.toISOString().slice(0, 10));
  const old = await insertAt(new Date(oldMonth.getTime() + DAY), new Date(oldMonth.getTime() + 2 * DAY), new Date(oldMonth.getTime() + 3 * DAY));
  const [stray] = await insertAt('2019-06-01T00:00:00Z'); // no month partition: in the default partition
  const [beforeCutoff] = await insertAt(new Date(cutoffMonth.getTime() + (cutoff.getTime() - cutoffMonth.getTime()) / 2));
  const [recent] = await insertAt(now);
  t.equal(await partitionOf(stray!.id), 'oriva.platform_events_default', 'a stray old event in the default partition');
  const oldPart = monthName(-5, now);

  const counts = await archiveOldRows(db.system, 90, 2, now);
  t.same(counts, { events: 6, eventPartitions: 2, notifications: 0, deliveryLogs: 0 }, 'March 2020 and five months ago whole (2 + 3 events), the stray one alone');
  const parts = await monthPartitions();
  t.notOk(parts.includes(oldPart), `${oldPart} dropped`);
  t.notOk(parts.includes('platform_events_p2020_03'), 'platform_events_p2020_03 dropped');
  t.ok(parts.includes(monthName(0, cutoff)), 'the month holding the cutoff stays');

  const moved = [...old, stray!];
  const archived = await db.system.query<Event>('select id, seq, created_at, event_data from oriva.platform_events_archive where id = any($1) order by seq', [moved.map((e) => e.id)]);
  t.same(archived.rows.map((r) => [r.id, r.seq, r.created_at.toISOString(), r.event_data]),
    moved.map((e) => [e.id, e.seq, e.created_at.toISOString(), e.event_data]), 'in the archive with their seq, time and data');
  const live = await db.system.query<{ id: string }>('select id from oriva.platform_events where id = any($1) order by seq', [[...moved, beforeCutoff!, recent!].map((e) => e.id)]);
  t.same(live.rows.map((r) => r.id), [beforeCutoff!.id, recent!.id], 'older than the cutoff but in a month that is not over for retention: kept, as is the recent one');

  const archivedAfter = sqlFile('gateway/archived_after');
  const gap = async (after: string) => (await db.system.query<{ archived: boolean }>(archivedAfter.text, [after])).rows[0]!.archived;
  t.equal(await gap(String(Number(old[0]!.seq) - 1)), true, 'the gateway sees that a resume point before them was archived');
  t.equal(await gap(String(Math.max(...moved.map((e) => Number(e.seq))))), false, 'and that one after them was not');

  t.same(await archiveOldRows(db.system, 90, 2, now), { events: 0, eventPartitions: 0, notifications: 0, deliveryLogs: 0 }, 'a second run finds nothing');
  const [fresh] = await insertAt(new Date());
  t.ok(Number(fresh!.seq) > Number(recent!.seq), 'writes go on, seq still increasing');
});

t.test('archival does not stall the event log behind a long reader: it gives up after lock_timeout, archiving nothing', async (t) => {
  const now = new Date();
  const month = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 6, 1));
  await makePartition(month.toISOString().slice(0, 10));
  const [old] = await insertAt(new Date(month.getTime() + DAY));
  const reader = await db.system.connect();
  t.teardown(() => reader.release());
  await reader.query('begin');
  await reader.query('select count(*) from oriva.platform_events'); // holds its lock until commit

  const started = Date.now();
  await t.rejects(archiveOldRows(db.system, 90, 2, now), { code: '55P03' }, 'lock_not_available');
  const waited = Date.now() - started;
  t.ok(waited < 5000, `gave up after ${waited} ms`);
  t.equal(await partitionOf(old!.id), `oriva.${monthName(-6, now)}`, 'the event is still live, in its partition');
  t.equal((await db.system.query('select 1 from oriva.platform_events_archive where id = $1', [old!.id])).rowCount, 0, 'and not in the archive');

  await reader.query('commit');
  t.match(await archiveOldRows(db.system, 90, 2, now), { events: 1, eventPartitions: 1 }, 'once the reader is done, the next run archives it');
});

t.test('the statement triggers see the rows of every partition a statement wrote', async (t) => {
  const listener = new pg.Client({ connectionString: db.url });
  await listener.connect();
  t.teardown(() => listener.end());
  const hints: unknown[] = [];
  listener.on('notification', (n) => hints.push(JSON.parse(n.payload ?? 'null')));
  await listener.query('listen oriva_events');
  const hook = await insertWebhook(db.system, APP, { url: 'https://receiver.example/hook', events: ['task.updated'] });

  const rows = await insertAt(new Date(), '2018-01-01T00:00:00Z'); // this month's partition and the default one
  t.not(await partitionOf(rows[0]!.id), await partitionOf(rows[1]!.id), 'two partitions');
  const deadline = Date.now() + 3000;
  while (hints.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  t.same(hints, [{ seq: Math.max(...rows.map((r) => Number(r.seq))) }], 'one NOTIFY for the statement, with its newest seq');
  const { rows: jobs } = await db.owner.query<{ event_id: string }>(
    `select j.payload->>'event_id' as event_id
       from graphile_worker._private_jobs j join graphile_worker._private_tasks k on k.id = j.task_id
      where k.identifier = 'webhook_deliver' and j.payload->>'webhook_id' = $1 order by j.id`, [hook.id]);
  t.same(jobs.map((j) => j.event_id), rows.map((r) => r.id), 'one webhook delivery job per event');
});

t.test('partitions are reachable only through the parent and its row-level security', async (t) => {
  const api = db.pool('oriva_api');
  for (const part of [monthName(0), 'platform_events_default']) {
    await t.rejects(api.query(`select * from oriva.${part}`), { code: '42501' }, `oriva_api may not read ${part}`);
    await t.rejects(api.query(`insert into oriva.${part} (app_id, event_category, event_type, entity_type, entity_id) values ('${APP}', 'task', 'x', 'task', 'x')`),
      { code: '42501' }, `nor write it`);
  }
  await t.rejects(db.system.query(`select * from oriva.${monthName(0)}`), { code: '42501' }, 'nor may oriva_system read a month partition');

  const client = await api.connect();
  t.teardown(() => client.release());
  await client.query('begin');
  await client.query(`select oriva.act_as('someone-else', null, false, null)`);
  const { rows } = await client.query('select count(*)::int as n from oriva.platform_events where app_id = $1', [APP]);
  await client.query('rollback');
  t.same(rows, [{ n: 0 }], "through the parent another app sees none of this app's events");
});
