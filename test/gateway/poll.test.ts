// Long-poll (issue 18, item 4): GET /api/v1/events/poll?after=<seq>&wait=<s> against the real
// gateway and Postgres — a live event ends a waiting poll, a resume answers at once in seq order with
// the unread count, next_after chains polls without loss or duplicate (also across transactions
// committing out of seq order), a resume point beyond the replay limit is a `gap`, and every bad
// request (credentials, Origin, after, wait, another user, too many polls) gets its exact refusal.
import pg from 'pg';
import t from 'tap';
import { signUserToken } from '../../lib/tokens.js';
import { testDatabase } from '../helpers/db.js';
import { createTestApp, TEST_JWT_SECRET, userAuth } from '../helpers/stack.js';
import { createNotification, gateway, insertEvent } from './helpers.js';

const db = await testDatabase(t);
const ORIGIN = 'https://core.oriva.io';
const gw = await gateway(t, db.url, { ALLOWED_ORIGINS: ORIGIN });
const app = await createTestApp(db, { id: 'work-buddy' });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const httpBase = () => gw.url.replace(/^ws/, 'http');

interface Answer { status: number; body: any; ms: number; headers: Headers }
async function poll(query: Record<string, string | number>, headers: Record<string, string>, base = httpBase()): Promise<Answer> {
  const started = Date.now();
  const res = await fetch(`${base}/api/v1/events/poll?${new URLSearchParams(Object.entries(query).map(([k, v]) => [k, String(v)]))}`, { headers });
  return { status: res.status, body: await res.json(), ms: Date.now() - started, headers: res.headers };
}
const types = (a: Answer) => (a.body.messages as { type: string }[]).map((m) => m.type);
const seqs = (a: Answer) => (a.body.messages as { type: string; seq: number }[]).filter((m) => m.type === 'event').map((m) => m.seq);

t.test('a live event ends a waiting poll, with the unread count', async (t) => {
  const { auth } = await userAuth('ann');
  const start = await insertEvent(db.system, { appId: app.appId, userId: 'someone-else' });
  const waiting = poll({ after: start, wait: 10 }, auth);
  await sleep(300);
  const { seq } = await createNotification(db, app.appId, 'ann');
  const answer = await waiting;
  t.equal(answer.status, 200);
  t.ok(answer.ms < 3000, `answered ${answer.ms} ms after it was sent, not at the end of wait`);
  t.same(seqs(answer), [seq]);
  t.ok(types(answer).includes('counts'), 'the unread count comes with it');
  const counts = (answer.body.messages as { type: string }[]).filter((m) => m.type === 'counts');
  t.match(counts.at(-1), { type: 'counts', unread: 1 }, 'the last count is the fresh one, after the new notification');
  t.equal(answer.body.next_after, seq, 'next_after is the last event');
  t.equal(answer.headers.get('cache-control'), 'no-store');
});

t.test('a resume answers at once, in seq order; next_after chains polls without loss or duplicate', async (t) => {
  const { auth } = await userAuth('ben');
  const before = await insertEvent(db.system, { appId: app.appId, userId: 'ben' });
  const expected: number[] = [];
  for (let i = 0; i < 3; i++) expected.push(await insertEvent(db.system, { appId: app.appId, userId: 'ben', entityId: `b${i}` }));
  await insertEvent(db.system, { appId: app.appId, userId: 'not-ben' });
  await sleep(200);
  const first = await poll({ after: before, wait: 10 }, auth);
  t.ok(first.ms < 2000, `answered in ${first.ms} ms`);
  t.same(seqs(first), expected, "ben's three events, in order, none of another user's");
  t.equal(first.body.next_after >= expected.at(-1)!, true);
  const empty = await poll({ after: first.body.next_after, wait: 0 }, auth);
  t.same(seqs(empty), [], 'nothing again');
  t.same(types(empty), ['ready', 'counts']);
  t.equal(empty.body.next_after, empty.body.messages[0].seq, 'with nothing new, next_after is where the stream stands');
});

t.test('wait elapses with nothing: ready only, after about wait seconds', async (t) => {
  const { auth } = await userAuth('cat');
  const answer = await poll({ wait: 1 }, auth);
  t.equal(answer.status, 200);
  t.ok(answer.ms >= 900 && answer.ms < 3000, `answered after ${answer.ms} ms`);
  t.same(seqs(answer), []);
  t.equal(types(answer)[0], 'ready');
});

t.test('transactions committing out of seq order: a poll never skips the lower seq', async (t) => {
  const { auth } = await userAuth('erin');
  const from = await insertEvent(db.system, { appId: app.appId, userId: 'nobody' });
  const a = new pg.Client({ connectionString: db.url });
  const b = new pg.Client({ connectionString: db.url });
  await a.connect();
  await b.connect();
  t.teardown(() => Promise.all([a.end(), b.end()]));
  await a.query('begin');
  const seqA = await insertEvent(a, { appId: app.appId, userId: 'erin', entityId: 'A' });
  const seqB = await insertEvent(b, { appId: app.appId, userId: 'erin', entityId: 'B' });
  const early = await poll({ after: from, wait: 1 }, auth);
  t.same(seqs(early), [], 'B is committed but A may still commit: nothing is released');
  t.ok(early.body.next_after < seqA, 'and the cursor stays below A');
  const waiting = poll({ after: early.body.next_after, wait: 10 }, auth);
  await sleep(300);
  await a.query('commit');
  const answer = await waiting;
  t.same(seqs(answer), [seqA, seqB], 'both, in seq order');
  const again = await poll({ after: answer.body.next_after, wait: 0 }, auth);
  t.same(seqs(again), [], 'no duplicate');
});

t.test('a resume point beyond the replay limit is a gap', async (t) => {
  const small = await gateway(t, db.url, {}, { replayLimit: 3 });
  const { auth } = await userAuth('dan');
  const from = await insertEvent(db.system, { appId: app.appId, userId: 'dan' });
  for (let i = 0; i < 5; i++) await insertEvent(db.system, { appId: app.appId, userId: 'dan', entityId: `d${i}` });
  await sleep(300);
  const answer = await poll({ after: from, wait: 5 }, auth, small.url.replace(/^ws/, 'http'));
  t.equal(answer.status, 200);
  const gap = answer.body.messages.find((m: { type: string }) => m.type === 'gap');
  t.match(gap, { type: 'gap', after: from, reason: 'too_far_behind' });
  t.equal(answer.body.next_after, gap.resume_seq, 'resume from the gap\'s resume_seq after refetching');
  t.same(seqs(answer), []);
});

t.test('bad requests get their exact refusal', async (t) => {
  const { auth } = await userAuth('fay');
  const expired = await userAuth('fay', -10);
  const newest = await insertEvent(db.system, { appId: app.appId, userId: 'fay' });
  const cases: [string, Record<string, string | number>, Record<string, string>, number, string, string][] = [
    ['no credentials', {}, {}, 401, 'missing_credentials', 'Send Authorization: Bearer <token>, a bearer.<token> subprotocol or ?auth=<token>'],
    ['an expired token', {}, expired.auth, 401, 'bad_credentials', 'Invalid, expired or revoked credentials'],
    ['a token signed with another secret', {}, { authorization: `Bearer ${await signUserToken('z'.repeat(40), 'fay')}` }, 401, 'bad_credentials', 'Invalid, expired or revoked credentials'],
    ['a wrong Origin', {}, { ...auth, origin: 'https://evil.example' }, 403, 'origin', 'Origin https://evil.example is not allowed'],
    ['after garbage', { after: 'yesterday' }, auth, 400, 'bad_query', 'after must be a non-negative integer seq'],
    ['after beyond the newest seq', { after: newest + 1000 }, auth, 400, 'bad_query', `after=${newest + 1000} is beyond the newest event (seq ${newest}): resume from a seq you received`],
    ['wait over the maximum', { wait: 31 }, auth, 400, 'bad_query', 'wait must be whole seconds from 0 to 30'],
    ['wait not a number', { wait: 'long' }, auth, 400, 'bad_query', 'wait must be whole seconds from 0 to 30'],
    ['another user', { user_id: 'gus' }, auth, 403, 'other_user', 'A user token streams only its own events'],
  ];
  for (const [what, query, headers, status, code, message] of cases) {
    const answer = await poll(query, headers);
    t.equal(answer.status, status, what);
    t.same(answer.body, { success: false, error: { code, message } }, what);
  }
  const byQuery = await poll({ wait: 0, auth: await signUserToken(TEST_JWT_SECRET, 'fay', 60) }, {});
  t.equal(byQuery.status, 200, '?auth= works as on the stream');
  const fromBrowser = await poll({ wait: 0 }, { ...auth, origin: ORIGIN });
  t.equal(fromBrowser.headers.get('access-control-allow-origin'), ORIGIN, 'an allowed origin may read the answer');
  const preflight = await fetch(`${httpBase()}/api/v1/events/poll`, { method: 'OPTIONS', headers: { origin: ORIGIN, 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' } });
  t.equal(preflight.status, 204);
  t.equal(preflight.headers.get('access-control-allow-headers'), 'authorization');
  t.equal((await fetch(`${httpBase()}/api/v1/events/poll`, { method: 'OPTIONS', headers: { origin: 'https://evil.example' } })).status, 403);
});

t.test('polls are rate-limited like stream messages', async (t) => {
  const limited = await gateway(t, db.url, {}, { messageBurst: 3, messagesPerSecond: 1 });
  const { auth } = await userAuth('gil');
  const base = limited.url.replace(/^ws/, 'http');
  const statuses: number[] = [];
  for (let i = 0; i < 4; i++) statuses.push((await poll({ wait: 0 }, auth, base)).status);
  t.same(statuses, [200, 200, 200, 429]);
  const refused = await poll({ wait: 0 }, auth, base);
  t.same(refused.body, { success: false, error: { code: 'too_many_polls', message: 'At most 1 polls per second (burst 3)' } });
  t.equal((await poll({ wait: 0 }, (await userAuth('hal')).auth, base)).status, 200, 'another user is not affected');
});
