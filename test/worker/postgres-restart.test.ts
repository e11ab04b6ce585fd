// Postgres restarts (fast shutdown: every session cut) while deliveries are queued and in flight:
// none is lost. A private cluster, never the shared one.
import type { ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import type { TaskList } from 'graphile-worker';
import pgLib from 'pg';
import t from 'tap';
import { createApp } from '../../lib/apps.js';
import { makePool } from '../../lib/db.js';
import { privatePostgres } from '../helpers/private-postgres.js';
import { testConfig, testLogger } from '../helpers/stack.js';
import { startWorker } from '../../worker/worker.js';
import { deliveryLog, insertEvent, insertWebhook, until } from './helpers/fixtures.js';
import { startReceiver } from './helpers/receiver.js';

const EVENTS = 30;

t.test('a Postgres restart with deliveries queued loses none of them', async (t) => {
  const pg = await privatePostgres(t);
  const pool = makePool(pg.url, { role: 'oriva_system', max: 2 });
  t.teardown(() => pool.end());
  const receiver = await startReceiver(t);
  // Slow answers keep deliveries in flight and the rest queued while Postgres goes away.
  receiver.on('/hook', (_req, res) => setTimeout(() => res.writeHead(200).end(), 150));
  const app = await createApp(pool, { id: 'work-buddy', name: 'Work Buddy', iconUrl: null, platform: false });
  await insertWebhook(pool, app.app_id, { url: receiver.url('/hook') });
  const eventIds: string[] = [];
  for (let i = 0; i < EVENTS; i++) eventIds.push(await insertEvent(pool, app.app_id));

  const config = testConfig({ WEBHOOK_ALLOWLIST: '127.0.0.1' });
  const worker = await startWorker(config, pg.url, testLogger('worker', config), { concurrency: 2, heartbeat: { intervalMs: 1000, staleAfterMs: 4000 } });
  t.teardown(() => worker.close());
  await receiver.waitFor('/hook', 3, 20_000);
  await pg.restart();
  const delivered = receiver.requests('/hook').length;
  t.ok(delivered < EVENTS, `${delivered} of ${EVENTS} delivered before the restart: the rest were queued`);

  await until(async () => new Set(receiver.requests('/hook').map((r) => r.headers['webhook-id'])).size === EVENTS, 60_000, 'every delivery');
  const ids = new Set(receiver.requests('/hook').map((r) => r.headers['webhook-id']));
  t.equal(ids.size, EVENTS, 'every event reached the receiver');
  const { rows } = await until(async () => {
    const r = await pool.query<{ n: number }>('select count(distinct delivery_id)::int as n from oriva.webhook_delivery_log where success');
    return r.rows[0]!.n === EVENTS && r;
  }, 30_000, 'every success recorded');
  t.same(rows, [{ n: EVENTS }], 'and every one is recorded as a success');
});

// graphile-worker shuts its pool down when it cannot record a job's outcome, leaving the job locked
// by that pool (for 4 hours, on its own). The worker restarts the pool and gives the job back as
// soon as Postgres answers: not after the stale-heartbeat sweep, set here to a minute.
t.test('Postgres gone as a delivery is answered: the job is given back and delivered again', async (t) => {
  const pg = await privatePostgres(t);
  const pool = makePool(pg.url, { role: 'oriva_system', max: 2 });
  t.teardown(() => pool.end());
  const receiver = await startReceiver(t);
  const held: ServerResponse[] = [];
  receiver.on('/hook', (_req, res, n) => (n === 1 ? held.push(res) : res.writeHead(200).end()));
  t.teardown(() => held.forEach((res) => res.destroy()));
  const app = await createApp(pool, { id: 'work-buddy', name: 'Work Buddy', iconUrl: null, platform: false });
  const hook = await insertWebhook(pool, app.app_id, { url: receiver.url('/hook') });
  await insertEvent(pool, app.app_id);

  const config = testConfig({ WEBHOOK_ALLOWLIST: '127.0.0.1' });
  const worker = await startWorker(config, pg.url, testLogger('worker', config), { concurrency: 1, heartbeat: { intervalMs: 500, staleAfterMs: 60_000 } });
  t.teardown(() => worker.close());
  const [first] = await receiver.waitFor('/hook', 1, 20_000);
  await pg.stop();
  held[0]!.writeHead(200).end(); // answered, but neither the success nor the job's failure can be written
  await sleep(1000);
  await pg.start();
  const back = Date.now();

  const requests = await receiver.waitFor('/hook', 2, 30_000);
  const after = requests[1]!.at - back;
  t.ok(after < 15_000, `delivered again ${(after / 1000).toFixed(1)} s after Postgres came back`);
  t.equal(requests[1]!.headers['webhook-id'], first!.headers['webhook-id'], 'with the same webhook-id');
  const log = await until(async () => { const r = await deliveryLog(pool, hook.id); return r.length === 1 && r; }, 10_000, 'the success recorded');
  t.match(log, [{ success: true, status_code: 200 }], 'and recorded once, as a success');
});

// graphile-worker 0.17.3 releases a local queue that still holds jobs it fetched ahead by starting the
// query that gives them back and then refusing to track it ("Cannot background something when the
// queue is already released"). With Postgres gone that query fails, untracked: an unhandled
// rejection, which ends a Node process. patches/graphile-worker+0.17.3.patch tracks it.
t.test('Postgres gone while jobs wait in the local queue: no unhandled rejection, every job runs', async (t) => {
  const pg = await privatePostgres(t);
  const owner = new pgLib.Pool({ connectionString: pg.url, max: 1 });
  owner.on('error', () => {});
  t.teardown(() => owner.end());
  const started: number[] = [];
  const gates: (() => void)[] = [];
  let open = false;
  const tasks: TaskList = {
    held: async (payload) => {
      started.push((payload as { n: number }).n);
      if (!open) await new Promise<void>((resolve) => gates.push(resolve));
    },
  };
  const rejections: unknown[] = [];
  const onRejection = (reason: unknown) => rejections.push(reason);
  process.on('unhandledRejection', onRejection);
  t.teardown(() => void process.off('unhandledRejection', onRejection));

  const config = testConfig();
  // Two slots, and two more jobs fetched ahead into the local queue.
  const worker = await startWorker(config, pg.url, testLogger('worker', config), { tasks, concurrency: 2, pollIntervalMs: 100, heartbeat: { intervalMs: 500, staleAfterMs: 60_000 } });
  t.teardown(() => worker.close());
  await owner.query(`select graphile_worker.add_job('held', json_build_object('n', n)) from generate_series(1, 5) n`);
  await until(async () => started.length === 2, 10_000, 'two jobs running');
  await sleep(300); // the local queue fetches the next two
  await pg.stop();
  gates.shift()!(); // its completion fails: the pool shuts down with jobs still waiting in its local queue
  await sleep(1000);
  open = true;
  gates.splice(0).forEach((pass) => pass());
  await pg.start();

  await until(async () => new Set(started).size === 5, 30_000, () => `every job run (${started.join(', ')})`);
  t.same([...new Set(started)].sort(), [1, 2, 3, 4, 5], 'every job ran');
  t.same(rejections.map(String), [], 'no unhandled rejection');
});
