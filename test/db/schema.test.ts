// The schema as committed: migrating twice changes nothing, sql/schema.sql is current, and no API
// key or secret sits in the database in plaintext.
import { readFileSync } from 'node:fs';
import t from 'tap';
import { createApp } from '../../lib/apps.js';
import { migrateDatabase } from '../../lib/migrate.js';
import { fromRoot } from '../../lib/paths.js';
import { dumpSchema } from '../../lib/schema-dump.js';
import { testDatabase } from '../helpers/db.js';

const db = await testDatabase(t);

t.test('sql/schema.sql matches the migrated schema (regenerate: npx oriva schema-dump > sql/schema.sql)', async (t) => {
  const committed = readFileSync(fromRoot('sql', 'schema.sql'), 'utf8');
  t.equal(await dumpSchema(db.system), committed);
});

t.test('migrating again is a no-op', async (t) => {
  const schemaBefore = await dumpSchema(db.system);
  const { rows: before } = await db.owner.query('select filename, hash from graphile_migrate.migrations order by filename');
  await migrateDatabase(db.url);
  await migrateDatabase(db.url);
  const { rows: after } = await db.owner.query('select filename, hash from graphile_migrate.migrations order by filename');
  t.same(after, before, 'no migration ran again');
  t.equal(await dumpSchema(db.system), schemaBefore, 'schema unchanged');
  const { rows: worker } = await db.system.query(`select count(*)::int as n from pg_namespace where nspname = 'graphile_worker'`);
  t.equal(worker[0].n, 1, "graphile-worker's schema is installed by migrating");
});

t.test('no API key is stored in plaintext anywhere in the database', async (t) => {
  const { api_key } = await createApp(db.system, { id: 'secretive', name: 'Secretive' });
  // Every row of every table, as text: the content a pg_dump would contain.
  const { rows: tables } = await db.owner.query(`
    select format('%I.%I', schemaname, tablename) as name from pg_tables
    where schemaname not in ('pg_catalog', 'information_schema')`);
  let scanned = 0;
  for (const { name } of tables) {
    const { rows } = await db.owner.query(`select t::text as row from ${name} t`);
    scanned += rows.length;
    const hits = rows.filter((r) => r.row.includes(api_key) || r.row.includes(api_key.slice(9)));
    t.equal(hits.length, 0, `${name} holds no plaintext key`);
  }
  t.ok(scanned > 0, `scanned ${scanned} rows`);
  const { rows } = await db.system.query(`select encode(key_hash, 'hex') as hash, prefix from oriva.api_keys where app_id = 'secretive'`);
  t.equal(rows[0].prefix, api_key.slice(0, 13), 'only a 13-character display prefix is kept');
  t.match(rows[0].hash, /^[0-9a-f]{64}$/, 'a SHA-256 digest');
});
