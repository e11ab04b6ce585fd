// Named parameters (lib/sql.ts): `:name` in a statement file becomes `$n`; casts, comments and string
// literals are left alone; a caller passes one object, and a missing or unknown name is refused.
import t from 'tap';
import { bindNames, sqlFile, sqlStatement, valuesOf } from '../../lib/sql.js';
import { inTransaction, run } from '../../lib/db.js';
import { testDatabase } from '../helpers/db.js';

t.test('bindNames numbers each distinct name once, in order of first use', async (t) => {
  const { text, params } = bindNames(`select :b::int + :a, :b -- not :c
    , ':d', 'it''s :e', now()::text`);
  t.same(params, ['b', 'a']);
  t.equal(text, `select $1::int + $2, $1 -- not :c
    , ':d', 'it''s :e', now()::text`);
});

t.test('a named statement takes one object; a missing or unknown name is refused before Postgres sees it', async (t) => {
  const feed = sqlStatement<Record<string, unknown>>('notifications/feed');
  t.equal(feed.params[0], 'user_id');
  t.ok(feed.params.includes('cursor_id'));
  t.throws(() => valuesOf(feed, { user_id: 'u' }), /parameter :app_id is missing \(pass null for none\)/);
  const all = Object.fromEntries(feed.params.map((p) => [p, null]));
  t.throws(() => valuesOf(feed, { ...all, typo: 1 }), /no parameter :typo/);
  t.same(valuesOf(feed, all), feed.params.map(() => null));
});

t.test('one way to load each file: sqlFile refuses a statement that names its parameters', async (t) => {
  t.throws(() => sqlFile('notifications/create'), /names its parameters: load it with sqlStatement/);
  t.doesNotThrow(() => sqlFile('notifications/owner'));
});

t.test('a named statement runs against Postgres with the values in the file\'s order', async (t) => {
  const db = await testDatabase(t);
  const list = sqlStatement<Record<string, unknown>>('events/list');
  const rows = await run(db.system, list, {
    app_id: 'nobody', event_category: null, event_type: null, user_id: null, entity_id: null, start_date: null, end_date: null,
    limit: 10, offset: 0, cursor_created_us: null, cursor_seq: null,
  });
  t.same(rows, []);
});

t.test("the API's write transactions use each statement's generic plan; reads keep the default", async (t) => {
  const db = await testDatabase(t);
  const api = db.pool('oriva_api');
  const mode = (c: { query: (q: string) => Promise<{ rows: { plan_cache_mode: string }[] }> }) => c.query('show plan_cache_mode').then((r) => r.rows[0]!.plan_cache_mode);
  t.equal(await inTransaction(api, { appId: 'nobody' }, mode, { genericPlans: true }), 'force_generic_plan', 'a write');
  t.equal(await inTransaction(api, { appId: 'nobody' }, mode), 'auto', 'a read');
  t.equal(await mode(api), 'auto', 'only for that transaction (set local)');
});
