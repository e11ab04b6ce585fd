// npm run bench [-- <name> …]: runs each bench/<name>.bench.ts in its own process, one after the
// other, so that no two load tests share the 2 cores. Each prints its figures as ratios against a
// reference measured in the same run (DESIGN §7).
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { cpus } from 'node:os';
import { fromRoot } from '../lib/paths.js';

const wanted = process.argv.slice(2);
const benches = readdirSync(fromRoot('bench'))
  .filter((f) => f.endsWith('.bench.ts'))
  .map((f) => f.replace(/\.bench\.ts$/, ''))
  .filter((name) => wanted.length === 0 || wanted.includes(name))
  .sort();

console.log(`# oriva bench: ${benches.join(', ') || '(none)'} on ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}`);
let failed = 0;
for (const name of benches) {
  console.log(`\n## ${name}`);
  const result = spawnSync(process.execPath, ['--import', 'tsx', fromRoot('bench', `${name}.bench.ts`)], { stdio: 'inherit' });
  if (result.status !== 0) failed += 1;
}
process.exit(failed ? 1 : 0);
