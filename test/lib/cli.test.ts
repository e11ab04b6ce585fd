// `npx oriva …` against a test database, as an operator runs it.
import { accessSync, constants, readFileSync } from 'node:fs';
import t from 'tap';
import { hashApiKey } from '../../lib/keys.js';
import { fromRoot } from '../../lib/paths.js';
import { verifyUserToken } from '../../lib/tokens.js';
import { resolveCaller } from '../../server/middleware/auth.js';
import { testDatabase } from '../helpers/db.js';
import { testConfig, TEST_JWT_SECRET } from '../helpers/stack.js';
import { runChild } from '../helpers/spawn.js';

const db = await testDatabase(t);
const api = db.pool('oriva_api');
const config = testConfig();
const oriva = (...args: string[]) => runChild('lib/cli/main.ts', args, { DATABASE_URL: db.url, JWT_SECRET: TEST_JWT_SECRET });

t.test('`npx oriva` resolves: package.json names an executable CLI entry', async (t) => {
  const bin = JSON.parse(readFileSync(fromRoot('package.json'), 'utf8')).bin as Record<string, string>;
  t.equal(bin.oriva, 'lib/cli/oriva.js');
  t.doesNotThrow(() => accessSync(fromRoot(bin.oriva!), constants.X_OK));
  t.match(readFileSync(fromRoot(bin.oriva!), 'utf8'), /^#!\/usr\/bin\/env node\n/);
});

t.test('apps create prints {app_id, api_key} and the key authenticates', async (t) => {
  const result = await oriva('apps', 'create', '--id', 'work-buddy', '--name', 'Work Buddy', '--icon-url', 'https://wb.example/icon.png');
  t.equal(result.code, 0, result.stderr);
  const issued = JSON.parse(result.stdout);
  t.same(Object.keys(issued), ['app_id', 'api_key']);
  t.equal(issued.app_id, 'work-buddy');
  t.match(issued.api_key, /^oriva_sk_[A-Za-z0-9_-]{32}$/);
  t.same(await resolveCaller(api, config, issued.api_key), { kind: 'app', appId: 'work-buddy', appName: 'Work Buddy', platform: false, keyHash: hashApiKey(issued.api_key) });
  const { rows } = await db.system.query('select name, icon_url, is_platform from oriva.apps where id = $1', ['work-buddy']);
  t.same(rows, [{ name: 'Work Buddy', icon_url: 'https://wb.example/icon.png', is_platform: false }]);
});

t.test('apps create --platform marks a first-party app', async (t) => {
  const result = await oriva('apps', 'create', '--id', 'oriva-core', '--name', 'Oriva Core', '--platform');
  t.equal(result.code, 0, result.stderr);
  const { api_key } = JSON.parse(result.stdout);
  t.match(await resolveCaller(api, config, api_key), { kind: 'app', appId: 'oriva-core', platform: true });
});

t.test('apps create refuses a duplicate or malformed id and writes nothing', async (t) => {
  const duplicate = await oriva('apps', 'create', '--id', 'work-buddy', '--name', 'Again');
  t.equal(duplicate.code, 1);
  t.equal(duplicate.stderr, 'oriva: already exists: Key (id)=(work-buddy) already exists.\n');
  const malformed = await oriva('apps', 'create', '--id', 'Bad Id!', '--name', 'X');
  t.equal(malformed.code, 1);
  t.match(malformed.stderr, /^oriva: invalid value: .*apps_id_check/);
  const missing = await oriva('apps', 'create', '--name', 'X');
  t.equal(missing.code, 2);
  t.match(missing.stderr, /^oriva: --id is required\nusage: oriva <command>/);
  const { rows } = await db.system.query('select count(*)::int as n from oriva.apps');
  t.equal(rows[0].n, 2, 'only the two apps created above');
});

t.test('apps rotate-key: the old key dies at once, or after --grace', async (t) => {
  const created = JSON.parse((await oriva('apps', 'create', '--id', 'hugo', '--name', 'Hugo AI')).stdout);
  const rotated = await oriva('apps', 'rotate-key', '--id', 'hugo');
  t.equal(rotated.code, 0, rotated.stderr);
  const next = JSON.parse(rotated.stdout);
  t.not(next.api_key, created.api_key);
  t.equal(await resolveCaller(api, config, created.api_key), null, 'old key refused immediately');
  t.match(await resolveCaller(api, config, next.api_key), { appId: 'hugo' });

  const graceful = JSON.parse((await oriva('apps', 'rotate-key', '--id', 'hugo', '--grace', '3600')).stdout);
  t.match(await resolveCaller(api, config, next.api_key), { appId: 'hugo' }, 'previous key lives through the grace period');
  t.match(await resolveCaller(api, config, graceful.api_key), { appId: 'hugo' });

  const unknown = await oriva('apps', 'rotate-key', '--id', 'nobody');
  t.equal(unknown.code, 1);
  t.equal(unknown.stderr, 'oriva: no app with id "nobody"\n');
});

t.test('token --user prints a JWT for that user with the given ttl', async (t) => {
  const result = await oriva('token', '--user', 'user_456', '--ttl', '120');
  t.equal(result.code, 0, result.stderr);
  const claims = await verifyUserToken(TEST_JWT_SECRET, result.stdout.trim());
  t.equal(claims?.userId, 'user_456');
  t.ok(claims && Math.abs(claims.expiresAt - (Date.now() / 1000 + 120)) < 10, 'expires in about 120 s');
  const bad = await oriva('token', '--user', 'not a valid id');
  t.equal(bad.code, 1);
  t.match(bad.stderr, /^oriva: invalid user id/);
});

t.test('migrate on a current database is a no-op', async (t) => {
  const before = await db.owner.query('select count(*)::int as n from graphile_migrate.migrations');
  const result = await oriva('migrate');
  t.equal(result.code, 0, result.stderr);
  t.equal(result.stderr, 'migrations are current\n');
  const after = await db.owner.query('select count(*)::int as n from graphile_migrate.migrations');
  t.equal(after.rows[0].n, before.rows[0].n);
});
