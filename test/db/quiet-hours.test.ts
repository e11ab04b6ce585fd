// Quiet hours (issue 14, DESIGN §9): oriva.quiet_hours_at answers "is this window open at T, and
// until when?" in the document's own time zone — across midnight and across both DST changes, with
// the bounds that fall in a skipped or repeated hour read by PostgreSQL's rules.
import t from 'tap';
import { testDatabase } from '../helpers/db.js';

const db = await testDatabase(t);

interface Answer { in_quiet: boolean; quiet_until: string | null }

async function quietAt(window: { start: string; end: string; timezone: string } | null, at: string): Promise<Answer> {
  const { rows: [row] } = await db.system.query<{ in_quiet: boolean; quiet_until: Date | null }>(
    'select in_quiet, quiet_until from oriva.quiet_hours_at($1::jsonb, $2::timestamptz)', [JSON.stringify(window), at]);
  return { in_quiet: row!.in_quiet, quiet_until: row!.quiet_until?.toISOString() ?? null };
}

const open = (until: string): Answer => ({ in_quiet: true, quiet_until: until });
const closed: Answer = { in_quiet: false, quiet_until: null };

t.test('no window: no quiet hours, or start equal to end', async (t) => {
  t.same(await quietAt(null, '2026-01-15T12:00:00Z'), closed);
  t.same(await quietAt({ start: '08:00', end: '08:00', timezone: 'UTC' }, '2026-01-15T08:00:00Z'), closed);
});

t.test('a window within one day is half-open: open at its start, closed at its end', async (t) => {
  const day = { start: '09:00', end: '17:00', timezone: 'UTC' };
  t.same(await quietAt(day, '2026-01-15T08:59:59Z'), closed);
  t.same(await quietAt(day, '2026-01-15T09:00:00Z'), open('2026-01-15T17:00:00.000Z'));
  t.same(await quietAt(day, '2026-01-15T16:59:59Z'), open('2026-01-15T17:00:00.000Z'));
  t.same(await quietAt(day, '2026-01-15T17:00:00Z'), closed);
});

t.test('a window across midnight, in local time (Berlin, winter: UTC+1)', async (t) => {
  const night = { start: '22:00', end: '07:00', timezone: 'Europe/Berlin' };
  t.same(await quietAt(night, '2026-01-15T20:59:00Z'), closed, '21:59 local');
  t.same(await quietAt(night, '2026-01-15T21:00:00Z'), open('2026-01-16T06:00:00.000Z'), '22:00 local, open until 07:00 next morning');
  t.same(await quietAt(night, '2026-01-15T23:30:00Z'), open('2026-01-16T06:00:00.000Z'), 'past midnight local');
  t.same(await quietAt(night, '2026-01-16T02:00:00Z'), open('2026-01-16T06:00:00.000Z'), '03:00 local: the window opened the day before');
  t.same(await quietAt(night, '2026-01-16T06:00:00Z'), closed, '07:00 local');
  t.same(await quietAt(night, '2026-01-16T12:00:00Z'), closed, 'midday');
});

t.test('Europe/Berlin across the spring change (29 March 2026, 02:00 CET → 03:00 CEST)', async (t) => {
  const night = { start: '22:00', end: '07:00', timezone: 'Europe/Berlin' };
  // opens 22:00 CET (21:00Z), closes 07:00 CEST (05:00Z): an eight-hour night
  t.same(await quietAt(night, '2026-03-28T21:00:00Z'), open('2026-03-29T05:00:00.000Z'));
  t.same(await quietAt(night, '2026-03-29T04:59:00Z'), open('2026-03-29T05:00:00.000Z'), '06:59 CEST');
  t.same(await quietAt(night, '2026-03-29T05:00:00Z'), closed, '07:00 CEST, not 07:00 CET');
  t.same(await quietAt(night, '2026-03-29T20:00:00Z'), open('2026-03-30T05:00:00.000Z'), '22:00 CEST the same evening');
  const early = { start: '01:00', end: '05:00', timezone: 'Europe/Berlin' };
  t.same(await quietAt(early, '2026-03-29T00:00:00Z'), open('2026-03-29T03:00:00.000Z'), '01:00 CET to 05:00 CEST: three hours');
});

t.test('Europe/Berlin across the autumn change (25 October 2026, 03:00 CEST → 02:00 CET)', async (t) => {
  const night = { start: '22:00', end: '07:00', timezone: 'Europe/Berlin' };
  // opens 22:00 CEST (20:00Z), closes 07:00 CET (06:00Z): a ten-hour night
  t.same(await quietAt(night, '2026-10-24T20:00:00Z'), open('2026-10-25T06:00:00.000Z'));
  t.same(await quietAt(night, '2026-10-25T05:30:00Z'), open('2026-10-25T06:00:00.000Z'), '06:30 CET is still quiet');
  t.same(await quietAt(night, '2026-10-25T06:00:00Z'), closed, '07:00 CET');
});

t.test('America/New_York across both changes', async (t) => {
  const night = { start: '23:00', end: '06:30', timezone: 'America/New_York' };
  // spring (8 March 2026, 02:00 EST → 03:00 EDT): 23:00 EST (04:00Z) to 06:30 EDT (10:30Z)
  t.same(await quietAt(night, '2026-03-08T03:59:00Z'), closed, '22:59 EST');
  t.same(await quietAt(night, '2026-03-08T04:00:00Z'), open('2026-03-08T10:30:00.000Z'));
  t.same(await quietAt(night, '2026-03-08T10:29:00Z'), open('2026-03-08T10:30:00.000Z'), '06:29 EDT');
  t.same(await quietAt(night, '2026-03-08T10:45:00Z'), closed, '06:45 EDT');
  // autumn (1 November 2026, 02:00 EDT → 01:00 EST): 23:00 EDT (03:00Z) to 06:30 EST (11:30Z)
  t.same(await quietAt(night, '2026-11-01T03:00:00Z'), open('2026-11-01T11:30:00.000Z'));
  t.same(await quietAt(night, '2026-11-01T11:00:00Z'), open('2026-11-01T11:30:00.000Z'), '06:00 EST');
  t.same(await quietAt(night, '2026-11-01T11:30:00Z'), closed, '06:30 EST');
});

t.test('a bound in the skipped hour or the repeated hour', async (t) => {
  // 02:30 does not exist in Berlin on 29 March 2026: read in the offset before the change,
  // 02:30 CET = 01:30Z (= 03:30 CEST)
  const skipped = { start: '02:30', end: '06:00', timezone: 'Europe/Berlin' };
  t.same(await quietAt(skipped, '2026-03-29T01:15:00Z'), closed, '03:15 CEST: not yet');
  t.same(await quietAt(skipped, '2026-03-29T01:30:00Z'), open('2026-03-29T04:00:00.000Z'), 'opens at 03:30 CEST, closes 06:00 CEST');
  // 02:30 happens twice in Berlin on 25 October 2026 (00:30Z in CEST, 01:30Z in CET): the later one
  const repeated = { start: '02:30', end: '06:00', timezone: 'Europe/Berlin' };
  t.same(await quietAt(repeated, '2026-10-25T00:45:00Z'), closed, 'the first 02:45 (CEST)');
  t.same(await quietAt(repeated, '2026-10-25T01:30:00Z'), open('2026-10-25T05:00:00.000Z'), 'the second 02:30 (CET)');
});

t.test("a user's stored quiet hours", async (t) => {
  await db.system.query(`insert into oriva.user_preferences (user_id, document) values ($1, $2)`,
    ['quiet-user', { quiet_hours: { start: '22:00', end: '07:00', timezone: 'Asia/Tokyo' } }]);
  const ask = async (user: string, at: string) =>
    (await db.system.query<{ in_quiet: boolean; quiet_until: Date | null }>(
      'select in_quiet, quiet_until from oriva.user_quiet_hours_at($1, $2)', [user, at])).rows;
  const [tokyo] = await ask('quiet-user', '2026-06-01T14:00:00Z'); // 23:00 in Tokyo (UTC+9, no DST)
  t.same({ in_quiet: tokyo!.in_quiet, quiet_until: tokyo!.quiet_until?.toISOString() }, { in_quiet: true, quiet_until: '2026-06-01T22:00:00.000Z' });
  t.same(await ask('quiet-user', '2026-06-01T03:00:00Z'), [{ in_quiet: false, quiet_until: null }], 'noon in Tokyo');
  t.same(await ask('someone-without-preferences', '2026-06-01T14:00:00Z'), [{ in_quiet: false, quiet_until: null }]);
});

t.test('every time zone the API accepts (Intl, canonicalised) is one PostgreSQL knows', async (t) => {
  const { rows } = await db.system.query<{ name: string }>('select name from pg_timezone_names');
  const known = new Set(rows.map((r) => r.name));
  const missing = Intl.supportedValuesOf('timeZone').filter((zone) => !known.has(zone));
  t.same(missing, [], 'a zone missing here would make oriva.quiet_hours_at fail for a document the API stored');
});
