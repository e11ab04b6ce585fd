// CPU time of the processes a bench runs, read from /proc (Linux), to say where a figure's time went.
import { readdirSync, readFileSync } from 'node:fs';
import type pg from 'pg';

/** utime + stime of a process, in seconds. */
export function processCpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

function parentPid(pid: number): number {
  return Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[1]);
}

/**
 * The postmaster of the Postgres server `db` talks to (the parent of its backend): only this
 * bench's server is counted, whatever else on the machine (a test suite) runs Postgres too.
 */
export async function postmasterPid(db: pg.Pool | pg.Client): Promise<number> {
  const { rows: [backend] } = await db.query<{ pid: number }>('select pg_backend_pid() as pid');
  return parentPid(backend!.pid);
}

/** utime + stime of one Postgres server: the postmaster and its children (backends that ended are not counted). */
export function postgresCpuSeconds(postmaster: number): number {
  let total = processCpuSeconds(postmaster);
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (parentPid(Number(entry)) === postmaster) total += processCpuSeconds(Number(entry));
    } catch {
      // the process ended meanwhile
    }
  }
  return total;
}

/** Busy and total CPU time of the whole machine since boot (all cores), in clock ticks: /proc/stat. */
function machineTicks(): { busy: number; all: number } {
  const [user, nice, system, idle, iowait, irq, softirq, steal] = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const busy = user! + nice! + system! + irq! + softirq! + steal!;
  return { busy, all: busy + idle! + iowait! };
}

/** Start measuring how busy the machine's cores are; the returned function gives the share since (0–1 of all cores). */
export function machineBusy(): () => number {
  const start = machineTicks();
  return () => {
    const now = machineTicks();
    return (now.busy - start.busy) / Math.max(1, now.all - start.all);
  };
}
