// `npx oriva …` against a test database, as an operator runs it.
import { accessSync, constants, readFileSync } from 'node:fs';
import t from 'tap';
import { hashApiKey } from '../../lib/keys.js';
import { fromRoot } from '../../lib/paths.js';
import { verifyUserToken } from '../../lib/tokens.js';
import { resolveCaller } from '../../lib/callers.js';
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
  t.equal(malformed.code, 2);
  t.match(malformed.stderr, /^oriva: --id "Bad Id!" does not match \^\[a-z0-9\]\[a-z0-9_-\]\{0,62\}\$\nusage: oriva <command>/, 'the pattern, not a Postgres message');
  t.notMatch(malformed.stderr, /apps_id_check|violates/);
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
  t.equal(bad.code, 2);
  t.match(bad.stderr, /^oriva: --user "not a valid id" does not match \^\[A-Za-z0-9_\.:@-\]\{1,128\}\$\nusage: oriva <command>/);
  t.equal(bad.stdout, '', 'no token printed');
});

t.test('unknown options and bad values: usage on stderr, exit 2, nothing written', async (t) => {
  const before = (await db.system.query('select (select count(*)::int from oriva.apps) as apps, (select count(*)::int from oriva.api_keys) as keys')).rows[0];
  const cases: Array<[string, string[], string]> = [
    ['an unknown option', ['apps', 'create', '--id', 'x1', '--name', 'X', '--colour', 'red'], "oriva: Unknown option '--colour'"],
    ["another command's option", ['token', '--user', 'u1', '--id', 'x1'], 'oriva: token takes no --id'],
    ['a missing option value', ['token', '--user'], "oriva: Option '--user <value>' argument missing"],
    ['an unknown command', ['apps', 'delete', '--id', 'x1'], 'oriva: unknown command "apps delete"'],
    ['a non-https --icon-url', ['apps', 'create', '--id', 'x2', '--name', 'X', '--icon-url', 'http://wb.example/icon.png'], 'oriva: --icon-url must be an https:// URL of at most 2048 characters'],
    ['a javascript: --icon-url', ['apps', 'create', '--id', 'x3', '--name', 'X', '--icon-url', 'javascript:alert(1)'], 'oriva: --icon-url must be an https:// URL of at most 2048 characters'],
    ['a --name over 100 characters', ['apps', 'create', '--id', 'x4', '--name', 'N'.repeat(101)], 'oriva: --name must be 1-100 characters without control characters'],
    ['--ttl 0', ['token', '--user', 'u1', '--ttl', '0'], 'oriva: --ttl must be a whole number of seconds, at least 1'],
    ['--ttl not a number', ['token', '--user', 'u1', '--ttl', '1h'], 'oriva: --ttl must be a whole number of seconds, at least 1'],
    ['--grace negative', ['apps', 'rotate-key', '--id', 'work-buddy', '--grace=-5'], 'oriva: --grace must be a whole number of seconds'],
    ['rotate-key with a malformed id', ['apps', 'rotate-key', '--id', 'Work Buddy'], 'oriva: --id "Work Buddy" does not match ^[a-z0-9][a-z0-9_-]{0,62}$'],
  ];
  for (const [name, args, message] of cases) {
    const result = await oriva(...args);
    t.equal(result.code, 2, `${name}: exit 2`);
    t.equal(result.stderr.split('\n')[0], message, `${name}: the message`);
    t.match(result.stderr, /\nusage: oriva <command>\n/, `${name}: usage`);
    t.equal(result.stdout, '', `${name}: nothing printed`);
  }
  const after = (await db.system.query('select (select count(*)::int from oriva.apps) as apps, (select count(*)::int from oriva.api_keys) as keys')).rows[0];
  t.same(after, before, 'no app or key written');
});

t.test('--version prints the package version', async (t) => {
  const result = await oriva('--version');
  t.equal(result.code, 0, result.stderr);
  t.equal(result.stdout, `${JSON.parse(readFileSync(fromRoot('package.json'), 'utf8')).version}\n`);
});

t.test('migrate on a current database is a no-op', async (t) => {
  const before = await db.owner.query('select count(*)::int as n from graphile_migrate.migrations');
  const result = await oriva('migrate');
  t.equal(result.code, 0, result.stderr);
  t.equal(result.stderr, 'migrations are current\n');
  const after = await db.owner.query('select count(*)::int as n from graphile_migrate.migrations');
  t.equal(after.rows[0].n, before.rows[0].n);
});

t.test('secrets generate-key prints a usable SECRETS_KEY; secrets reencrypt brings plaintext secrets under it', async (t) => {
  const generated = await runChild('lib/cli/main.ts', ['secrets', 'generate-key', '--id', 'k2026'], { NODE_ENV: 'production', JWT_SECRET: '', SECRETS_KEY: '' });
  t.equal(generated.code, 0, 'needs no configuration, not even in production');
  const key = generated.stdout.trim();
  t.match(key, /^k2026:[A-Za-z0-9+/]{43}=$/);
  const bad = await oriva('secrets', 'generate-key', '--id', 'no spaces');
  t.equal(bad.code, 2);
  t.match(bad.stderr, /--id must be 1-32 letters, digits, _ or -/);

  await db.system.query(`insert into oriva.apps (id, name) values ('cli-secrets', 'CLI') on conflict do nothing`);
  await db.system.query(`insert into oriva.app_webhooks (app_id, webhook_url, webhook_secret, subscribed_events) values ('cli-secrets', 'https://93.184.216.34/h', 'whsec_cGxhaW50ZXh0LXNlY3JldC1mcm9tLWJlZm9yZQ==', '{*}')`);
  const result = await runChild('lib/cli/main.ts', ['secrets', 'reencrypt'], { DATABASE_URL: db.url, JWT_SECRET: TEST_JWT_SECRET, SECRETS_KEY: key });
  t.equal(result.code, 0, result.stderr);
  t.match(JSON.parse(result.stdout), { reencrypted: Number, key: 'k2026' });
  t.ok(JSON.parse(result.stdout).reencrypted >= 1);
  const { rows } = await db.system.query(`select webhook_secret from oriva.app_webhooks where app_id = 'cli-secrets'`);
  t.match(rows[0].webhook_secret, /^enc:v1:k2026:/);
});
