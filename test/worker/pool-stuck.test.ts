// graphile-worker 0.17 records job failures through a batcher whose bookkeeping breaks when one
// batch fails and a later one succeeds (batch() in its main.js never resets its backpressure, so
// its pending count goes below zero): the pool then shuts down but never finishes terminating, its
// runner never settles, and the job whose failure was lost stays locked. That happened in CI when
// Postgres restarted under a failing delivery. The worker must start a fresh runner anyway and give
// the stuck pool's jobs back.
//
// Here a trigger makes the first attempt to record a failure fail, deterministically.
import { setTimeout as sleep } from 'node:timers/promises';
import type { TaskList } from 'graphile-worker';
import t from 'tap';
import { startWorker } from '../../worker/worker.js';
import { testDatabase } from '../helpers/db.js';
import { testConfig, testLogger } from '../helpers/stack.js';
import { until } from './helpers/fixtures.js';

const db = await testDatabase(t);
await db.owner.query(`
  create sequence public.test_failures_recorded;
  create function public.test_lose_first_failure() returns trigger language plpgsql as $$
  begin
    if new.last_error is distinct from old.last_error then
      if nextval('public.test_failures_recorded') = 1 then
        raise exception 'recording this failure fails (test)';
      end if;
    end if;
    return new;
  end $$;
  create trigger test_lose_first_failure before update on graphile_worker._private_jobs
    for each row execute function public.test_lose_first_failure();
`);

t.test('a pool that cannot record a failure is replaced, and its job runs again', async (t) => {
  const runs: string[] = [];
  const tasks: TaskList = {
    fails_now: async () => {
      runs.push('fails_now');
      throw new Error('fails at once');
    },
    fails_later: async () => {
      runs.push('fails_later');
      await sleep(500); // still running when the first failure cannot be recorded
      throw new Error('fails half a second later');
    },
    slow: async () => {
      runs.push('slow');
      await sleep(1500); // keeps the pool shutting down until after the second failure is recorded
    },
    succeeds: async () => {
      runs.push('succeeds');
    },
  };
  const config = testConfig();
  const worker = await startWorker(config, db.url, testLogger('worker', config), {
    tasks, concurrency: 3, pollIntervalMs: 100, heartbeat: { intervalMs: 500, staleAfterMs: 60_000 },
  });
  t.teardown(() => worker.close());

  await db.owner.query(`select graphile_worker.add_job('slow', '{}'), graphile_worker.add_job('fails_later', '{}', max_attempts => 1)`);
  await until(async () => runs.includes('slow') && runs.includes('fails_later'), 5000, 'slow and fails_later running');
  await db.owner.query(`select graphile_worker.add_job('fails_now', '{}', max_attempts => 2)`);
  await until(async () => runs.includes('fails_now'), 5000, 'fails_now running');
  await sleep(2000); // the first failure was lost, the second recorded, the slow job done

  await db.owner.query(`select graphile_worker.add_job('succeeds', '{}')`);
  const count = (task: string) => runs.filter((r) => r === task).length;
  await until(async () => runs.includes('succeeds'), 10_000, 'a job added afterwards to run');
  t.equal(count('succeeds'), 1, 'a job added after the lost failure runs: a fresh runner took over');
  await until(async () => count('fails_now') === 2, 10_000, 'the job whose failure was lost to run again');
  t.equal(count('fails_now'), 2, 'the job whose failure was lost ran again (its lock was given back, not held for 4 hours)');
  const settled = async () => {
    // this test's jobs only: the worker's cron may add its own at a minute boundary (unknown to this task list, they just wait)
    const { rows } = await db.owner.query(`select task_identifier, attempts, locked_by from graphile_worker.jobs
                                           where task_identifier = any($1) order by id`, [Object.keys(tasks)]);
    return rows.every((r) => r.locked_by === null) && rows;
  };
  t.same(await until(settled, 5000, 'no job locked'), [
    { task_identifier: 'fails_later', attempts: 1, locked_by: null },
    { task_identifier: 'fails_now', attempts: 2, locked_by: null },
  ], 'what is left: the two failing jobs, each failed for good after all its attempts, none locked');
});
