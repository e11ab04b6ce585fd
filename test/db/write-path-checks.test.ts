// The write path's value checks in the database (migration 000018: a user id, an event's category
// and type) are plain character-and-length scans, not regular expressions. They must accept exactly
// what the API's JSON-schema patterns accept: compared here over a corpus of edge cases and random
// strings, so either side drifting fails the suite.
import t from 'tap';
import { userId } from '../../lib/schemas/common.js';
import { eventCreate } from '../../lib/schemas/events.js';
import { testDatabase } from '../helpers/db.js';

const db = await testDatabase(t);

/** Short strings over an alphabet of allowed, near-miss and non-ASCII characters, plus long ones. */
function corpus(alphabet: string): string[] {
  const values = new Set<string>(['', ' ', 'a', 'A', '_', '0', 'a\n', '\na', 'a b', 'é', 'aé', 'İ', 'ﬀ', 'a\u200b']);
  let seed = 7;
  const next = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  for (let i = 0; i < 3000; i++) {
    const length = Math.floor(next() * 5);
    values.add(Array.from({ length }, () => alphabet[Math.floor(next() * alphabet.length)]).join(''));
  }
  for (const length of [63, 64, 65, 127, 128, 129]) {
    values.add('a'.repeat(length));
    values.add('a'.repeat(length - 1) + '-');
  }
  return [...values];
}
const near = '-_.:@/$# \tAZaz09ÀéİKℹ٣';

t.test('oriva.user_id accepts exactly what the API pattern accepts', async (t) => {
  const pattern = new RegExp(userId.pattern);
  const client = await db.owner.connect();
  t.teardown(() => client.release());
  await client.query(`create function pg_temp.is_user_id(v text) returns boolean language plpgsql as $$
    begin perform v::oriva.user_id; return true; exception when check_violation then return false; end $$`);
  const values = corpus('AaZz09_.:@-' + near);
  const { rows } = await client.query<{ v: string; ok: boolean }>('select v, pg_temp.is_user_id(v) as ok from unnest($1::text[]) as v', [values]);
  const { rows: [domain] } = await client.query<{ def: string }>(`select pg_get_constraintdef(oid) as def from pg_constraint where contypid = 'oriva.user_id'::regtype`);
  t.notMatch(domain!.def, /~/, 'no regular expression');
  const disagree = rows.filter((r) => r.ok !== pattern.test(r.v));
  t.same(disagree, [], `${rows.length} values, ${rows.filter((r) => r.ok).length} accepted`);
  t.ok(rows.some((r) => r.ok) && rows.some((r) => !r.ok), 'the corpus has values on both sides');
});

for (const column of ['event_category', 'event_type'] as const) {
  t.test(`platform_events.${column}'s check accepts exactly what the API pattern accepts`, async (t) => {
    const pattern = new RegExp(eventCreate.properties[column].pattern);
    const { rows: [constraint] } = await db.owner.query<{ def: string }>(
      `select pg_get_constraintdef(oid) as def from pg_constraint where conrelid = 'oriva.platform_events'::regclass and conname = $1`,
      [`platform_events_${column}_check`]);
    const expression = /^CHECK \((.*)\)$/s.exec(constraint!.def)![1];
    t.notMatch(expression, /~/, 'no regular expression');
    const values = corpus('abyz09_'.repeat(3) + near);
    // A check passes unless its expression is false; evaluated over the corpus with the column's name.
    const { rows } = await db.owner.query<{ v: string; ok: boolean }>(
      `select ${column} as v, (${expression}) is not false as ok from unnest($1::text[]) as probe (${column})`, [values]);
    const disagree = rows.filter((r) => r.ok !== pattern.test(r.v));
    t.same(disagree, [], `${rows.length} values, ${rows.filter((r) => r.ok).length} accepted`);
    t.ok(rows.some((r) => r.ok) && rows.some((r) => !r.ok), 'the corpus has values on both sides');
  });
}
