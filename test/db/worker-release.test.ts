// Giving back the jobs of worker pools that stopped (worker/heartbeat.ts): a pool that stopped on its
// own, or a dead one, gives back what it held with the attempts it spent (oriva.release_stopped_workers:
// a job that was running counts); a process that stopped gracefully gives back what it fetched ahead and
// never started with that attempt undone (oriva.return_unstarted_jobs, migration 000026). Either forgets
// the pools' heartbeats and leaves other pools' jobs alone.
import t from 'tap';
import { testDatabase } from '../helpers/db.js';

const db = await testDatabase(t);

async function lockedJobs(): Promise<void> {
  await db.owner.query(`delete from graphile_worker._private_jobs`);
  await db.owner.query(`select graphile_worker.add_jobs(array(select row('bench_noop', json_build_object('n', g), null, null, null, null, null, null)::graphile_worker.job_spec from generate_series(1, 3) g))`);
  // As graphile-worker's fetch does: the lock counts an attempt.
  await db.owner.query(`update graphile_worker._private_jobs set attempts = attempts + 1, locked_at = now(),
                          locked_by = case payload->>'n' when '3' then 'other-pool' else 'stopped-pool' end`);
  await db.owner.query(`insert into oriva.worker_heartbeats (worker_id, hostname, pid) values ('stopped-pool', 'h', 1), ('other-pool', 'h', 2)`);
}
const state = async () => (await db.owner.query(`select (payload->>'n')::int as n, attempts, locked_by from graphile_worker._private_jobs order by 1`)).rows;
const beating = async () => (await db.owner.query(`select worker_id from oriva.worker_heartbeats order by 1`)).rows.map((r) => r.worker_id);

t.test('a graceful stop: the unstarted jobs come back with their attempt undone', async (t) => {
  await lockedJobs();
  await db.system.query(`select oriva.return_unstarted_jobs($1::text[])`, [['stopped-pool']]);
  t.same(await state(), [{ n: 1, attempts: 0, locked_by: null }, { n: 2, attempts: 0, locked_by: null }, { n: 3, attempts: 1, locked_by: 'other-pool' }]);
  t.same(await beating(), ['other-pool']);
  await db.owner.query(`delete from oriva.worker_heartbeats`);
});

t.test('a pool that stopped on its own: its jobs come back, their attempts counted', async (t) => {
  await lockedJobs();
  await db.system.query(`select oriva.release_stopped_workers($1::text[])`, [['stopped-pool']]);
  t.same(await state(), [{ n: 1, attempts: 1, locked_by: null }, { n: 2, attempts: 1, locked_by: null }, { n: 3, attempts: 1, locked_by: 'other-pool' }]);
  t.same(await beating(), ['other-pool']);
});
