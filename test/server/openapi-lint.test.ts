// Third-party linters on the live /openapi.json, offline: Redocly's recommended rules and Spectral's
// `oas` ruleset report no errors and no warnings.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { testDatabase } from '../helpers/db.js';
import { startTestServer } from '../helpers/stack.js';

const run = promisify(execFile);
const root = resolve(import.meta.dirname, '../..');
const bin = (name: string) => join(root, 'node_modules/.bin', name);
// No telemetry, no update check: both run without the network.
const env = { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true', NO_COLOR: '1' };

const db = await testDatabase(t);
const server = await startTestServer(t, db);
const dir = await mkdtemp(join(tmpdir(), 'oriva-lint-'));
t.teardown(() => rm(dir, { recursive: true, force: true }));
const file = join(dir, 'openapi.json');
await writeFile(file, await (await fetch(`${server.url}/openapi.json`)).text());

t.test('redocly lint (recommended): valid, no warnings', async (t) => {
  // stderr carries Redocly's notice that Node 20 support ends; the verdict is the JSON on stdout.
  const { stdout } = await run(bin('redocly'), ['lint', file, '--format', 'json'], { cwd: dir, env });
  const report = JSON.parse(stdout.slice(stdout.indexOf('{'))) as { totals: Record<string, number>; problems: unknown[] };
  t.same(report.problems, [], 'no problems');
  t.same(report.totals, { errors: 0, warnings: 0, ignored: 0 });
});

t.test('spectral lint (spectral:oas): nothing at any severity', async (t) => {
  await writeFile(join(dir, '.spectral.yaml'), 'extends: ["spectral:oas"]\n');
  const { stdout } = await run(bin('spectral'), ['lint', file, '--ruleset', join(dir, '.spectral.yaml'), '--fail-severity', 'hint', '--format', 'json', '--quiet'], { cwd: dir, env });
  t.same(JSON.parse(stdout || '[]'), [], 'no results');
});
