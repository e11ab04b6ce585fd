// npx tsx bench/schema-costs.ts: what parts of the schema cost a batch create in Postgres CPU, to
// weigh them against the batch target (issue 19: 15,000 notifications/s leaves 133 µs per
// notification on 2 cores for everything). One embedded Postgres (or DATABASE_URL's server); a
// database as migrated, and one more per variant with that part dropped. The two take turns in
// blocks of creates (100 notifications per statement and transaction, the API's statement with its
// generic plan, one connection each), so a host whose speed drifts between minutes hits both alike.
// Each block's cost is its backend's CPU time (/proc); the WAL writer and other background processes
// are not counted. Prints, per variant, both sides' cost per notification and the median saving over
// the rounds. SCHEMA_COSTS_ROUNDS (default 8) rounds of SCHEMA_COSTS_BLOCK (default 20) creates per side.
import pg from 'pg';
import { createApp } from '../lib/apps.js';
import { inTransaction, makePool } from '../lib/db.js';
import { createMigratedDatabase, dropDatabase, releaseScratchServer, scratchServer } from '../lib/dev/scratch.js';
import { insertNotifications } from '../lib/notifications.js';
import { benchNotification } from './api-server.js';
import { processCpuSeconds } from './cpu.js';
import { median } from './median.js';

const ROUNDS = Number(process.env.SCHEMA_COSTS_ROUNDS ?? 8);
const BLOCK = Number(process.env.SCHEMA_COSTS_BLOCK ?? 20);
const BATCH = 100;

const notificationIndexes = ['platform_notifications_created_idx', 'platform_notifications_app_user_idx', 'platform_notifications_expires_idx', 'platform_notifications_feed_idx'];
const eventIndexes = ['platform_events_app_category_idx', 'platform_events_app_created_idx', 'platform_events_app_user_idx', 'platform_events_created_idx', 'platform_events_entity_idx', 'platform_events_user_seq_idx'];
const foreignKeys = [['platform_events', 'platform_events_app_id_fkey'], ['platform_notifications', 'platform_notifications_app_id_fkey'], ['notification_state', 'notification_state_notification_id_fkey']];
const dropIndexes = (names: string[]) => names.map((name) => `drop index oriva.${name};`).join(' ');
const dropForeignKeys = foreignKeys.map(([table, name]) => `alter table oriva.${table} drop constraint ${name};`).join(' ');

const VARIANTS: { what: string; ddl: string }[] = [
  { what: 'the full-text index (operator search)', ddl: dropIndexes(['platform_notifications_text_idx']) },
  { what: `the notifications' other 4 secondary indexes (feed, per app and user, by time, expiry)`, ddl: dropIndexes(notificationIndexes) },
  { what: `the event log's 6 secondary indexes`, ddl: dropIndexes(eventIndexes) },
  { what: 'the 3 foreign keys the create checks', ddl: dropForeignKeys },
  { what: 'all of the above', ddl: `${dropIndexes(['platform_notifications_text_idx', ...notificationIndexes, ...eventIndexes])} ${dropForeignKeys}` },
];

interface Side {
  /** Run `count` creates; add their backend CPU to this side's tally. */
  block(count: number): Promise<void>;
  /** µs of backend CPU per notification since the last call. */
  take(): number;
  end(): Promise<void>;
}

const { adminUrl, dataDir } = await scratchServer('oriva-schema-costs');
const databases: string[] = [];

/** A migrated database (with `ddl` run by its owner), the bench app and its installed user, warmed up. */
async function side(name: string, ddl: string | null): Promise<Side> {
  const database = `oriva_schema_costs_${name}_${process.pid}`;
  databases.push(database);
  const url = await createMigratedDatabase(adminUrl, database);
  if (ddl) {
    const owner = new pg.Client({ connectionString: url });
    await owner.connect();
    await owner.query(ddl);
    await owner.end();
  }
  const system = makePool(url, { role: 'oriva_system', max: 1 });
  const api = makePool(url, { role: 'oriva_api', max: 1 });
  await createApp(system, { id: 'bench-app', name: 'Bench App', platform: false });
  await system.query(`insert into oriva.app_installations (user_id, app_id) values ('bench_user', 'bench-app')`);
  const { rows: [backend] } = await api.query<{ pid: number }>('select pg_backend_pid() as pid');
  let n = 0;
  const create = () => inTransaction(api, { appId: 'bench-app' }, (c) =>
    insertNotifications(c, 'bench-app', Array.from({ length: BATCH }, () => benchNotification(`costs-${n++}`)), { installRequired: true }), { genericPlans: true });
  for (let i = 0; i < 10; i++) await create();
  let cpuS = 0;
  let notifications = 0;
  return {
    async block(count) {
      const before = processCpuSeconds(backend!.pid);
      for (let i = 0; i < count; i++) await create();
      cpuS += processCpuSeconds(backend!.pid) - before;
      notifications += count * BATCH;
    },
    take() {
      const us = (cpuS / notifications) * 1e6;
      cpuS = 0;
      notifications = 0;
      return us;
    },
    end: async () => {
      await Promise.all([api.end(), system.end()]);
    },
  };
}

try {
  console.log(`# Postgres CPU per notification of a ${BATCH}-item create (one backend's), as migrated / with a part dropped; ${ROUNDS} rounds of ${BLOCK} creates per side, the order flipping every round`);
  const base = await side('base', null);
  for (const [i, variant] of VARIANTS.entries()) {
    const without = await side(`v${i}`, variant.ddl);
    const rounds: [number, number][] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const order = round % 2 === 0 ? [base, without] : [without, base];
      for (const s of order) await s.block(BLOCK);
      rounds.push([base.take(), without.take()]);
    }
    await without.end();
    const shown = rounds.map(([a, b]) => `${a.toFixed(0)}/${b.toFixed(0)}`).join(' ');
    console.log(`without ${variant.what}: median ${median(rounds.map(([a]) => a)).toFixed(0)} → ${median(rounds.map(([, b]) => b)).toFixed(0)} µs, saving ${Math.round(median(rounds.map(([a, b]) => a - b)))} µs (median of the rounds' differences; rounds ${shown})`);
  }
  await base.end();
} finally {
  if (dataDir) await releaseScratchServer(dataDir);
  else for (const database of databases) await dropDatabase(adminUrl, database);
}
