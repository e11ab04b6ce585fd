// Runs after tap (npm test): prints the suite's coverage and fails below the `lines` threshold of
// package.json's tap config. tap's own report cannot be used as is: tsx's source maps carry
// `sourcesContent: [null]`, and c8 then counts the transpiled lines (a few per file, all "covered")
// instead of the TypeScript source's. Dropping that field makes c8 read the source from disk.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fromRoot } from '../lib/paths.js';

interface SourceMapEntry { data?: { sourcesContent?: (string | null)[] } }
interface CoverageFile { 'source-map-cache'?: Record<string, SourceMapEntry> }
interface Metric { pct: number; covered: number; total: number }

const coverageDir = fromRoot('.tap/coverage');
for (const name of readdirSync(coverageDir).filter((n) => n.endsWith('.json'))) {
  const path = `${coverageDir}/${name}`;
  const coverage = JSON.parse(readFileSync(path, 'utf8')) as CoverageFile;
  let changed = false;
  for (const entry of Object.values(coverage['source-map-cache'] ?? {})) {
    if (entry.data?.sourcesContent?.every((content) => content === null)) {
      delete entry.data.sourcesContent;
      changed = true;
    }
  }
  if (changed) writeFileSync(path, JSON.stringify(coverage));
}

// tap's report (c8 underneath) writes .tap/report/coverage-summary.json; its TAP chatter is not ours to print.
const report = spawnSync(process.execPath, [fromRoot('node_modules/tap/dist/esm/run.mjs'), 'report', 'json-summary'], {
  cwd: fromRoot(),
  stdio: ['ignore', 'ignore', 'inherit'],
});
if (report.status !== 0) process.exit(report.status ?? 1);

const { tap } = JSON.parse(readFileSync(fromRoot('package.json'), 'utf8')) as { tap: { lines: number } };
const { total } = JSON.parse(readFileSync(fromRoot('.tap/report/coverage-summary.json'), 'utf8')) as {
  total: Record<'lines' | 'statements' | 'functions' | 'branches', Metric>;
};
const ok = total.lines.pct >= tap.lines;
const figure = (name: keyof typeof total) => `${total[name].pct}% of ${name} (${total[name].covered}/${total[name].total})`;
console.log(`# coverage: ${figure('functions')}, ${figure('branches')}`);
console.log(`# coverage: ${figure('lines')}; threshold ${tap.lines}%${ok ? '' : ': BELOW THE THRESHOLD'}`);
process.exit(ok ? 0 : 1);
