// npx tsx bench/compare-trees.ts <other checkout>: the API's write path of this tree against
// another checkout of this repository (say an older commit: `git worktree add ../before <commit>`
// and `npm ci` there), both servers running side by side on one Postgres, each on its own database,
// the same loads alternating between them in short rounds (the order flips every round). On a
// shared 2-core host whose speed drifts by tens of percent within minutes, a run of one tree and
// then the other compares two different machines; per-round ratios of side-by-side rounds do not.
// Prints each load's median and the median of the per-round ratios (this tree ÷ the other).
// COMPARE_ROUNDS (10), COMPARE_SECONDS (3) per load and round, COMPARE_LOADS (batch,max,rate500; also
// rate1000, and cpu1000: the CPU one request costs at 1,000 req/s, the server's and Postgres' together,
// a steadier figure than a tail where a change saves work per request). COMPARE_OTHER_ENV (JSON)
// adds variables to the other side's server: one tree against itself with a setting changed, say
// `npx tsx bench/compare-trees.ts . ` with COMPARE_OTHER_ENV='{"GROUP_COMMIT_FLUSHES":"1"}'.
import type { ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import pg from 'pg';
import { createMigratedDatabase, dropDatabase, releaseScratchServer, scratchServer } from '../lib/dev/scratch.js';
import { fromRoot } from '../lib/paths.js';
import { benchNotification, spawnApiServer } from './api-server.js';
import { postgresCpuSeconds, postmasterPid, processCpuSeconds } from './cpu.js';
import { closedLoad, loadClient, openLoad, type LoadRequest } from './load.js';
import { median } from './median.js';

const other = process.argv[2];
if (!other) {
  console.error('usage: npx tsx bench/compare-trees.ts <path of another checkout, with npm ci done>');
  process.exit(2);
}
const ROUNDS = Number(process.env.COMPARE_ROUNDS ?? 10);
const SECONDS = Number(process.env.COMPARE_SECONDS ?? 3);
const LOADS = (process.env.COMPARE_LOADS ?? 'batch,max,rate500').split(',');
const KNOWN_LOADS = ['batch', 'max', 'rate500', 'rate1000', 'cpu1000'];
const OTHER_ENV = JSON.parse(process.env.COMPARE_OTHER_ENV ?? '{}') as Record<string, string>;
if (LOADS.some((l) => !KNOWN_LOADS.includes(l))) {
  console.error(`COMPARE_LOADS: a comma-separated list of ${KNOWN_LOADS.join(', ')}`);
  process.exit(2);
}

interface Side {
  name: string;
  /** CPU seconds so far of this side's server process and of the Postgres both sides use. */
  cpuSeconds: () => number;
  client: ReturnType<typeof loadClient>;
  post: () => LoadRequest;
  batch: () => LoadRequest;
}

const servers: ChildProcess[] = [];
const databases: string[] = [];
const { adminUrl, dataDir } = await scratchServer('oriva-compare');

/** One tree's server on its own database, migrated and set up by that tree's own code. */
async function startSide(root: string, name: string, env: Record<string, string> = {}): Promise<Side> {
  const scratch = (await import(resolve(root, 'lib/dev/scratch.ts'))) as { createMigratedDatabase: typeof createMigratedDatabase };
  const apps = (await import(resolve(root, 'lib/apps.ts'))) as { createApp(db: pg.Pool, app: { id: string; name: string; platform: boolean }): Promise<{ api_key: string }> };
  const database = `oriva_compare_${name}_${process.pid}`;
  databases.push(database);
  const url = await scratch.createMigratedDatabase(adminUrl, database);
  const setup = new pg.Pool({ connectionString: url, max: 2 });
  const postmaster = await postmasterPid(setup);
  const app = await apps.createApp(setup, { id: 'bench-app', name: 'Bench App', platform: false });
  // A tree with installations (issue 13): the bench user installed the app, as in the API bench.
  const { rows: [installs] } = await setup.query(`select to_regclass('oriva.app_installations') is not null as exist`);
  if (installs.exist) await setup.query(`insert into oriva.app_installations (user_id, app_id) values ('bench_user', 'bench-app')`);
  await setup.end();
  const { child, url: origin } = await spawnApiServer(url, env, root);
  servers.push(child);
  const headers = { authorization: `Bearer ${app.api_key}`, 'content-type': 'application/json' };
  let n = 0;
  const side: Side = {
    name,
    cpuSeconds: () => processCpuSeconds(child.pid!) + postgresCpuSeconds(postmaster),
    client: loadClient(origin),
    post: () => ({ method: 'POST', path: '/api/v1/apps/bench-app/notifications', headers, body: JSON.stringify(benchNotification(`p-${n++}`)) }),
    batch: () => {
      const b = n++;
      return { method: 'POST', path: '/api/v1/apps/bench-app/notifications/batch', headers, body: JSON.stringify({ notifications: Array.from({ length: 100 }, (_, i) => benchNotification(`b-${b}-${i}`)) }) };
    },
  };
  await openLoad(side.client, { rate: 1000, seconds: 2 }, side.post); // warm-up
  return side;
}

try {
  const here = await startSide(fromRoot(), 'here');
  const there = await startSide(resolve(other), 'other', OTHER_ENV);
  const loads: Record<string, { unit: string; run: (s: Side) => Promise<number> }> = {
    batch: { unit: 'notifications/s (batches of 100, 4 concurrent)', run: async (s) => (await closedLoad(s.client, { concurrency: 4, seconds: SECONDS }, s.batch)).perSecond * 100 },
    max: { unit: 'req/s (POST notification, 32 concurrent)', run: async (s) => (await closedLoad(s.client, { concurrency: 32, seconds: SECONDS }, s.post)).perSecond },
    rate500: { unit: 'ms p99 (POST notification at 500 req/s)', run: async (s) => (await openLoad(s.client, { rate: 500, seconds: SECONDS }, s.post)).p99 },
    rate1000: { unit: 'ms p99 (POST notification at 1,000 req/s)', run: async (s) => (await openLoad(s.client, { rate: 1000, seconds: SECONDS }, s.post)).p99 },
    cpu1000: {
      unit: 'µs CPU per request, server and Postgres (POST notification at 1,000 req/s)',
      run: async (s) => {
        const before = s.cpuSeconds();
        const result = await openLoad(s.client, { rate: 1000, seconds: SECONDS }, s.post);
        return ((s.cpuSeconds() - before) / result.requests) * 1e6;
      },
    },
  };
  const figures = Object.fromEntries(LOADS.map((l) => [l, { here: [] as number[], other: [] as number[] }]));
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 ? [there, here] : [here, there];
    for (const load of LOADS) {
      for (const side of order) figures[load]![side.name as 'here' | 'other'].push(await loads[load]!.run(side));
    }
    console.log(`round ${round + 1}: ${LOADS.map((l) => `${l} ${figures[l]!.here.at(-1)!.toFixed(1)} / ${figures[l]!.other.at(-1)!.toFixed(1)}`).join(', ')} (here / other)`);
  }
  console.log(`# here: ${fromRoot()}; other: ${resolve(other)} ${JSON.stringify(OTHER_ENV)}; ${ROUNDS} rounds of ${SECONDS} s per load`);
  for (const load of LOADS) {
    const { here: h, other: o } = figures[load]!;
    const ratios = h.map((x, i) => x / o[i]!);
    console.log(`${load}: median here ${median(h).toFixed(1)}, other ${median(o).toFixed(1)} ${loads[load]!.unit}; here ÷ other per round ${ratios.map((r) => r.toFixed(2)).join(' ')}; median ${median(ratios).toFixed(3)}, here higher in ${ratios.filter((r) => r > 1).length} of ${ratios.length}`);
  }
} finally {
  for (const server of servers) server.kill('SIGTERM');
  await Promise.all(servers.filter((s) => s.exitCode === null).map((s) => new Promise((r) => s.once('exit', r))));
  if (dataDir) await releaseScratchServer(dataDir);
  else for (const database of databases) await dropDatabase(adminUrl, database);
}
process.exit(0);
