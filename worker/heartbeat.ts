// Crash recovery. graphile-worker 0.17 leaves the jobs of a worker that died (SIGKILL, OOM, lost
// machine) locked for 4 hours. Each worker process therefore beats every intervalMs for the
// graphile-worker pools it runs, and every live process regularly unlocks the jobs of ids that have
// not beaten for staleAfterMs (and have held their lock that long), via
// graphile_worker.force_unlock_workers. Jobs of a dead process run again within staleAfterMs +
// intervalMs of any worker running.
//
// Within a live process, a pool can also stop on its own: graphile-worker shuts a pool down when it
// cannot record a job's outcome (Postgres gone), leaving that job locked. A pool that stopped stops
// beating, and the next beat gives back whatever it still holds at once.
import { hostname } from 'node:os';
import type { WorkerEvents } from 'graphile-worker';
import { run, type Pool } from '../lib/db.js';
import type { Logger } from '../lib/log.js';
import { sqlFile } from '../lib/sql.js';

const beat = sqlFile('worker/beat');
const releaseStopped = sqlFile('worker/release_stopped');
const returnUnstarted = sqlFile('worker/return_unstarted');
const unlockDead = sqlFile('worker/unlock_dead');

export interface HeartbeatOptions {
  intervalMs?: number;
  staleAfterMs?: number;
}

export const DEFAULT_HEARTBEAT = { intervalMs: 5_000, staleAfterMs: 20_000 };

export interface Heartbeat {
  /** Beat and unlock once now (also done on every interval). */
  tick(): Promise<void>;
  /** True while the pool beats: from its creation until it is released (or forgotten). */
  beats(poolId: string): boolean;
  /** Stop beating a pool that stopped without being released; the next tick gives back its jobs. */
  forget(poolId: string): void;
  /**
   * The process is stopping gracefully: a pool that stops from now on has finished the jobs it ran,
   * so what it still holds (jobs fetched ahead) was never started.
   */
  closing(): void;
  /** Stop beating; give back what the stopped pools hold (the unstarted jobs with their attempt undone). */
  stop(): Promise<void>;
}

export function startHeartbeat(events: WorkerEvents, pool: Pool, log: Logger, options: HeartbeatOptions = {}): Heartbeat {
  const { intervalMs, staleAfterMs } = { ...DEFAULT_HEARTBEAT, ...options };
  const ids = new Set<string>();
  const gone = new Set<string>();
  /** Pools that stopped after closing() began: given back at stop(), as never started. */
  const finished = new Set<string>();
  let closing = false;
  const host = hostname();

  // graphile-worker 0.17 locks every job with its pool's id (its workers' ids lock nothing), so a
  // pool is what beats, from the moment it exists. A pool that stopped (cleanly, or on its own after
  // a fatal error) no longer beats, and whatever it still holds is given back on the next tick.
  events.on('pool:create', ({ workerPool }) => {
    ids.add(workerPool.id);
    void run(pool, beat, [[workerPool.id], host, process.pid]).catch(() => {});
  });
  const forget = (id: string) => {
    if (ids.delete(id)) (closing ? finished : gone).add(id);
  };
  events.on('pool:release', ({ workerPool }) => forget(workerPool.id));

  // Forget the stopped pools' heartbeats and give back their jobs.
  const releaseGone = async () => {
    if (gone.size === 0) return;
    const released = [...gone];
    await run(pool, releaseStopped, [released]);
    for (const id of released) gone.delete(id);
  };

  let running: Promise<void> | null = null;
  const tick = () =>
    (running ??= (async () => {
      try {
        await releaseGone();
        if (ids.size > 0) await run(pool, beat, [[...ids], host, process.pid]);
        const [row] = await run<{ worker_ids: string[] }>(pool, unlockDead, [staleAfterMs]);
        if (row && row.worker_ids.length > 0) log.warn({ workerIds: row.worker_ids }, 'released the jobs of workers that stopped beating');
      } catch (err) {
        log.warn({ err }, 'heartbeat failed (database unavailable?)');
      } finally {
        running = null;
      }
    })());
  const timer = setInterval(() => void tick(), intervalMs);
  timer.unref();
  void tick();
  return {
    tick,
    beats: (id) => ids.has(id),
    forget,
    closing: () => {
      closing = true;
    },
    stop: async () => {
      clearInterval(timer);
      await running;
      await releaseGone().catch(() => {});
      // After a graceful stop the jobs still locked to this process's pools were fetched ahead
      // (graphile-worker's local queue) and never run. A pool gives those back itself as it stops;
      // these are what one could not (Postgres gone as it stopped, or a pool that never finished
      // stopping): back with the attempt their fetch counted undone (oriva.return_unstarted_jobs).
      // Without closing() (the runner could not start), no pool ran a job.
      const stopped = [...ids, ...finished];
      ids.clear();
      finished.clear();
      if (stopped.length > 0) await run(pool, returnUnstarted, [stopped]).catch(() => {});
    },
  };
}
