// The partitioned event log keeps its index plans: with events in several month partitions (big
// enough that a scan of a whole partition would cost something), the gateway's resume and pump
// statements (by seq), the newest-seq reads, the stats rollup and the REST event list read each big
// partition through an index — an Append or Merge Append of index scans, never a Seq Scan of a month.
import t, { type Test } from 'tap';
import { createApp } from '../../lib/apps.js';
import type { Queryable } from '../../lib/db.js';
import { sqlFile, sqlStatement, valuesOf, type NamedQuery } from '../../lib/sql.js';
import { testDatabase } from '../helpers/db.js';

const db = await testDatabase(t);
const APPS = 10;
const USERS = 500;
const PER_MONTH = 20_000;
const apps = Array.from({ length: APPS }, (_, i) => `plan-app-${i}`);
for (const id of apps) await createApp(db.system, { id, name: id });

// Three months of events: two months ago, last month (partitions made for them as the migration
// would for months that hold rows) and this month, in created_at order, as they would have come.
const { rows: months } = await db.owner.query<{ month: string }>(`
  select to_char(m, 'YYYY-MM-DD') as month
    from generate_series(date_trunc('month', now() at time zone 'UTC') - interval '2 months',
                         date_trunc('month', now() at time zone 'UTC'), interval '1 month') m`);
for (const { month } of months) {
  await db.owner.query('select oriva.create_event_partition($1::date)', [month]);
  await db.system.query(
    `insert into oriva.platform_events (app_id, user_id, event_category, event_type, entity_type, entity_id, event_data, created_at)
     select 'plan-app-' || (g % $2), 'user-' || (g % $3), 'task', 'updated', 'task', 'task-' || g, jsonb_build_object('g', g),
            least(($1::date)::timestamp at time zone 'UTC' + g * interval '1 minute', now())
       from generate_series(1, $4) g`,
    [month, APPS, USERS, PER_MONTH],
  );
}
await db.owner.query('analyze oriva.platform_events');

const { rows: parts } = await db.owner.query<{ name: string; rows: number }>(`
  select c.relname as name, c.reltuples::int as rows
    from pg_inherits i join pg_class c on c.oid = i.inhrelid
   where i.inhparent = 'oriva.platform_events'::regclass`);
const big = parts.filter((p) => p.rows >= PER_MONTH / 2).map((p) => p.name);
const newest = Number((await db.system.query<{ max_seq: string }>('select max(seq) as max_seq from oriva.platform_events')).rows[0]!.max_seq);

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  Plans?: PlanNode[];
}

function nodes(plan: PlanNode): PlanNode[] {
  return [plan, ...(plan.Plans ?? []).flatMap(nodes)];
}

async function planOf(db: Queryable, query: NamedQuery, values: unknown[]): Promise<PlanNode[]> {
  const { rows } = await db.query<{ 'QUERY PLAN': [{ Plan: PlanNode }] }>(`explain (format json) ${query.text}`, values);
  return nodes(rows[0]!['QUERY PLAN'][0].Plan);
}

const INDEX_READS = ['Index Scan', 'Index Only Scan', 'Bitmap Heap Scan'];

/** Every big partition the plan reads is read through an index; none is read whole. */
function assertIndexPlan(t: Test, plan: PlanNode[]) {
  const seqScans = plan.filter((n) => n['Node Type'] === 'Seq Scan' && big.includes(n['Relation Name'] ?? ''));
  t.same(seqScans.map((n) => n['Relation Name']), [], 'no Seq Scan on a big partition');
  const indexed = plan.filter((n) => INDEX_READS.includes(n['Node Type']) && big.includes(n['Relation Name'] ?? ''));
  t.ok(indexed.length > 0, `big partitions read by index: ${indexed.map((n) => `${n['Node Type']} ${n['Relation Name']}`).join(', ')}`);
}

t.test('the data spans several big month partitions', async (t) => {
  t.ok(big.length >= 3, `big partitions: ${big.join(', ')}`);
  t.ok(big.every((name) => /^platform_events_p\d{4}_\d{2}$/.test(name)), 'all of them month partitions');
});

const replay = sqlStatement<{ after: number; up_to: number; user_id: string | null; app_id: string | null; max_rows: number }>('gateway/replay');

t.test("resume by seq: a user's connection", async (t) => {
  const values = valuesOf(replay, { after: newest - 200, up_to: newest, user_id: 'user-7', app_id: null, max_rows: 1001 });
  assertIndexPlan(t, await planOf(db.system, replay, values));
});

t.test("resume by seq: an app's connection", async (t) => {
  const values = valuesOf(replay, { after: newest - 200, up_to: newest, user_id: null, app_id: 'plan-app-3', max_rows: 1001 });
  assertIndexPlan(t, await planOf(db.system, replay, values));
});

t.test("the gateway's pump and the stats rollup: a settled range of seq", async (t) => {
  assertIndexPlan(t, await planOf(db.system, sqlFile('gateway/settled_range'), [newest - 500, newest, 1000]));
});

t.test('the newest seq (bound, resume check) is read from the indexes', async (t) => {
  t.test('events/bound.sql', async (t) => assertIndexPlan(t, await planOf(db.system, sqlFile('events/bound'), [])));
  t.test('gateway/newest_seq.sql', async (t) => assertIndexPlan(t, await planOf(db.system, sqlFile('gateway/newest_seq'), [])));
});

t.test('the stats rollup (oriva.stats_roll_up, a function): its read of the settled seq range, as auto_explain logs it', async (t) => {
  const client = await db.owner.connect();
  const plans: PlanNode[][] = [];
  client.on('notice', (notice) => {
    const json = /plan:\s*(\{[\s\S]*\})\s*$/.exec(notice.message ?? '')?.[1];
    if (json) plans.push(nodes((JSON.parse(json) as { Plan: PlanNode }).Plan));
  });
  t.teardown(async () => {
    await client.query('rollback');
    client.release(true); // the session's auto_explain settings go with it
  });
  await client.query(`load 'auto_explain'`);
  await client.query(`set auto_explain.log_min_duration = 0; set auto_explain.log_nested_statements = on;
                      set auto_explain.log_format = json; set client_min_messages = log`);
  await client.query('begin');
  await client.query('select oriva.stats_roll_up($1, $2)', [newest - 500, newest]);
  const reads = plans.filter((plan) => plan.some((n) => big.includes(n['Relation Name'] ?? '')));
  t.ok(reads.length > 0, `statements logged: ${plans.length}, reading the event log: ${reads.length}`);
  for (const plan of reads) assertIndexPlan(t, plan);
});

const list = sqlStatement<Record<string, unknown>>('events/list');
const noFilters = { event_category: null, event_type: null, user_id: null, entity_id: null, start_date: null, end_date: null, offset: 0, limit: 51 };

t.test("the event list (GET /apps/:appId/events), as the API runs it: the acting app's rows under RLS", async (t) => {
  const client = await db.pool('oriva_api').connect();
  t.teardown(async () => {
    await client.query('rollback');
    client.release();
  });
  await client.query('begin');
  await client.query(`select oriva.act_as('plan-app-3', null, false, null)`);
  t.test('first page', async (t) => {
    const values = valuesOf(list, { app_id: 'plan-app-3', ...noFilters, cursor_created_us: null, cursor_seq: null });
    assertIndexPlan(t, await planOf(client, list, values));
  });
  t.test('a later page (cursor)', async (t) => {
    const { rows: [cursor] } = await client.query<{ us: string; seq: string }>(
      `select (extract(epoch from created_at) * 1000000)::bigint as us, seq from oriva.platform_events
        where app_id = 'plan-app-3' order by created_at desc, seq desc offset 5000 limit 1`);
    const values = valuesOf(list, { app_id: 'plan-app-3', ...noFilters, cursor_created_us: cursor!.us, cursor_seq: cursor!.seq });
    assertIndexPlan(t, await planOf(client, list, values));
  });
  t.test('filtered by user', async (t) => {
    const values = valuesOf(list, { app_id: 'plan-app-3', ...noFilters, user_id: 'user-13', cursor_created_us: null, cursor_seq: null });
    assertIndexPlan(t, await planOf(client, list, values));
  });
});
