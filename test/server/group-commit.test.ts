// Group commit (issue 19, item 1): concurrent single creates share transactions, and each gets the
// answer it would have got alone. The same mixed burst is sent twice: at once to a server that
// groups (one flush at a time, so the burst queues and shares transactions), and one request after
// another to a server that commits each alone (GROUP_COMMIT=false, the old path) — with apps and
// users of its own, set up alike. The answers must agree item by item; the rows written must be
// exactly those of the successful answers.
import pgLib from 'pg';
import t from 'tap';
import { makePool } from '../../lib/db.js';
import { createApp } from '../../lib/apps.js';
import { GroupCommit, type GroupKind } from '../../server/group-commit.js';
import { startServer, type ServerHandle } from '../../server/server.js';
import { testDatabase, type TestDatabase } from '../helpers/db.js';
import { privatePostgres } from '../helpers/private-postgres.js';
import { createTestApp, startTestServer, testConfig, testLogger, type TestApp } from '../helpers/stack.js';
import { client, failure, notification, type Answer, type Send } from './http.js';

const db = await testDatabase(t);
const grouped = await startTestServer(t, db, { INSTALL_REQUIRED: 'true', GROUP_COMMIT_FLUSHES: '1' });
const alone = await startTestServer(t, db, { INSTALL_REQUIRED: 'true', GROUP_COMMIT: 'false' });

interface Request {
  label: string;
  app: TestApp;
  path: 'notifications' | 'events';
  json: Record<string, unknown>;
  key?: string;
  /** The second burst: a value only Postgres refuses, among creates that must not suffer for it. */
  second?: boolean;
}

/** Answer reduced to what "the same answer" means: status, error code, replayed — and for a replay, the id it replays. */
const outcome = (a: Answer) => ({
  status: a.status,
  code: a.body?.error?.code ?? null,
  replayed: a.headers.get('idempotent-replayed') === 'true',
});

/** Two apps and a platform app of their own, four users who installed both apps, one who did not. */
async function scenario(prefix: string) {
  const a = await createTestApp(db, { id: `${prefix}-a` });
  const b = await createTestApp(db, { id: `${prefix}-b` });
  const core = await createTestApp(db, { id: `${prefix}-core`, platform: true });
  const users = [1, 2, 3, 4].map((i) => `${prefix}-user-${i}`);
  await db.system.query(`insert into oriva.app_installations (user_id, app_id) select u, app from unnest($1::text[]) u, unnest($2::text[]) app`,
    [users, [a.appId, b.appId]]);
  const stranger = `${prefix}-stranger`;
  const event = (userId: string, id: string) => ({ event_category: 'session', event_type: 'started', entity_type: 'session', entity_id: id, user_id: userId });
  const requests: Request[] = [
    ...Array.from({ length: 12 }, (_, i): Request => ({ label: `a created ${i}`, app: a, path: 'notifications', json: notification({ external_id: `a-${i}`, user_id: users[i % 4] }) })),
    ...Array.from({ length: 12 }, (_, i): Request => ({ label: `b created ${i}`, app: b, path: 'notifications', json: notification({ external_id: `b-${i}`, user_id: users[i % 4] }) })),
    ...Array.from({ length: 6 }, (_, i): Request => ({ label: `b event ${i}`, app: b, path: 'events', json: event(users[i % 4]!, `s-${i}`) })),
    { label: 'a duplicate of an earlier external_id', app: a, path: 'notifications', json: notification({ external_id: 'taken', user_id: users[0] }) },
    { label: 'a not installed', app: a, path: 'notifications', json: notification({ external_id: 'a-stranger', user_id: stranger }) },
    { label: 'b event not installed', app: b, path: 'events', json: event(stranger, 's-x') },
    { label: 'core (platform) reaches a user who installed nothing', app: core, path: 'notifications', json: notification({ external_id: 'core-1', user_id: stranger }) },
    { label: 'a replay of an earlier key', app: a, path: 'notifications', key: 'k-replay', json: notification({ external_id: 'replayed', user_id: users[1] }) },
    { label: 'a earlier key, another body', app: a, path: 'notifications', key: 'k-replay', json: notification({ external_id: 'other', user_id: users[1] }) },
    { label: 'a new key, first', app: a, path: 'notifications', key: 'k-new', json: notification({ external_id: 'keyed', user_id: users[2] }) },
    { label: 'a new key, second', app: a, path: 'notifications', key: 'k-new', json: notification({ external_id: 'keyed', user_id: users[2] }) },
    { label: 'a keyed create that fails', app: a, path: 'notifications', key: 'k-fails', json: notification({ external_id: 'keyed-fails', user_id: stranger }) },
    { label: 'a no template for template_data', app: a, path: 'notifications', json: { ...notification({ external_id: 'templated', user_id: users[3] }), title: undefined, body: undefined, template_data: { x: 1 } } },
    // A value only Postgres refuses: the shared statement fails, the flush is written again member by member.
    ...Array.from({ length: 8 }, (_, i): Request => ({ label: `a beside the NUL ${i}`, app: a, path: 'notifications', second: true, json: notification({ external_id: `a2-${i}`, user_id: users[i % 4] }) })),
    // last: the first of a burst starts a flush alone, the rest queue and share the next one
    { label: 'a NUL in context_data', app: a, path: 'notifications', second: true, json: notification({ external_id: 'nul', user_id: users[3], context_data: { note: 'bad \u0000 data' } }) },
    { label: 'b same new external_id, one', app: b, path: 'notifications', json: notification({ external_id: 'b-same', user_id: users[0] }) },
    { label: 'b same new external_id, other', app: b, path: 'notifications', json: notification({ external_id: 'b-same', user_id: users[1] }) },
  ];
  return { a, b, core, users, stranger, requests };
}

const send = (call: Send, r: Request) =>
  call('POST', `/apps/${r.app.appId}/${r.path}`, { headers: { ...r.app.auth, ...(r.key ? { 'idempotency-key': r.key } : {}) }, json: r.json });

/** Before the burst: 'taken' exists, and key k-replay was answered. The replay's notification id. */
async function before(call: Send, s: Awaited<ReturnType<typeof scenario>>): Promise<string> {
  t.equal((await send(call, { label: '', app: s.a, path: 'notifications', json: notification({ external_id: 'taken', user_id: s.users[0] }) })).status, 201);
  const first = await send(call, s.requests.find((r) => r.label === 'a replay of an earlier key')!);
  t.equal(first.status, 201);
  return first.body.notification_id as string;
}

async function metric(server: ServerHandle, name: string): Promise<number> {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return Number(line?.split(' ')[1]);
}

/** The notifications and events of an app as rows, for comparing with the answers. */
async function written(database: TestDatabase, appIds: string[]) {
  const { rows: notifications } = await database.system.query(
    `select id::text, app_id, external_id from oriva.platform_notifications where app_id = any($1) order by app_id, external_id`, [appIds]);
  const { rows: events } = await database.system.query(
    `select id::text, app_id from oriva.platform_events where app_id = any($1) and event_category = 'session' order by seq`, [appIds]);
  const { rows: keys } = await database.system.query(
    `select app_id, key, response_status from oriva.idempotency_keys where app_id = any($1) order by key`, [appIds]);
  return { notifications, events, keys };
}

t.test('a mixed burst from three apps gets, item by item, the answers each request gets alone', async (t) => {
  const g = await scenario('grp');
  const s = await scenario('seq');
  const groupedCall = client(grouped);
  const aloneCall = client(alone);
  const replayedId = { grp: await before(groupedCall, g), seq: await before(aloneCall, s) };
  const flushesBefore = await metric(grouped, 'oriva_group_commit_flushes_total');
  const membersBefore = await metric(grouped, 'oriva_group_commit_members_total');
  const splitsBefore = await metric(grouped, 'oriva_group_commit_splits_total');

  // First burst: everything but the NUL; then the NUL among eight plain creates.
  const firstBurst = g.requests.filter((r) => !r.second);
  const groupedAnswers = await Promise.all(firstBurst.map((r) => send(groupedCall, r)));
  const flushes = (await metric(grouped, 'oriva_group_commit_flushes_total')) - flushesBefore;
  const members = (await metric(grouped, 'oriva_group_commit_members_total')) - membersBefore;
  t.equal(members, firstBurst.length, 'each create of the burst was a member of one committed flush');
  t.ok(flushes <= members / 2, `the burst shared transactions: ${members} creates in ${flushes} commits`);
  t.equal(await metric(grouped, 'oriva_group_commit_splits_total'), splitsBefore, 'no shared statement failed');
  groupedAnswers.push(...await Promise.all(g.requests.filter((r) => r.second).map((r) => send(groupedCall, r))));
  t.ok((await metric(grouped, 'oriva_group_commit_splits_total')) - splitsBefore >= 1, 'the NUL in context_data failed a shared statement: that flush was written again one by one');
  const aloneAnswers: Answer[] = [];
  for (const r of [...s.requests.filter((x) => !x.second), ...s.requests.filter((x) => x.second)]) aloneAnswers.push(await send(aloneCall, r));
  t.equal(await metric(alone, 'oriva_group_commit_members_total'), await metric(alone, 'oriva_group_commit_flushes_total'), 'GROUP_COMMIT=false: every create committed alone');
  g.requests = [...g.requests.filter((r) => !r.second), ...g.requests.filter((r) => r.second)];

  // Item by item; the pairs that race (one key twice, one external_id twice) as pairs.
  const pairs = new Set(['a new key, first', 'a new key, second', 'b same new external_id, one', 'b same new external_id, other']);
  g.requests.forEach((r, i) => {
    if (!pairs.has(r.label)) t.same(outcome(groupedAnswers[i]!), outcome(aloneAnswers[i]!), r.label);
  });
  for (const label of ['a new key', 'b same new external_id']) {
    const of = (answers: Answer[]) => g.requests.flatMap((r, i) => (r.label.startsWith(label) ? [outcome(answers[i]!)] : []))
      .sort((x, y) => JSON.stringify(x).localeCompare(JSON.stringify(y)));
    t.same(of(groupedAnswers), of(aloneAnswers), `${label}: the same pair of answers`);
  }

  // Each create took exactly one rate-limit hit, shared or alone (the split flush's members not twice):
  // per app and kind, the same X-RateLimit-Remaining values.
  const aloneOrder = [...s.requests.filter((x) => !x.second), ...s.requests.filter((x) => x.second)];
  const remaining = (requests: Request[], answers: Answer[], app: TestApp, path: Request['path']) =>
    requests.flatMap((r, i) => (r.app === app && r.path === path ? [answers[i]!.headers.get('x-ratelimit-remaining')] : [])).sort();
  t.ok(groupedAnswers.every((a) => /^\d+$/.test(a.headers.get('x-ratelimit-remaining') ?? '')), 'every answer carries its remaining hits');
  for (const role of ['a', 'b', 'core'] as const) {
    for (const path of ['notifications', 'events'] as const) {
      t.same(remaining(g.requests, groupedAnswers, g[role], path), remaining(aloneOrder, aloneAnswers, s[role], path), `${role}'s ${path}: the same hits as alone`);
    }
  }

  // What those answers are, spelled out.
  const answer = (label: string) => groupedAnswers[g.requests.findIndex((r) => r.label === label)]!;
  t.ok(g.requests.every((r, i) => !r.label.match(/ (created|beside the NUL) \d+$/) || groupedAnswers[i]!.status === 201), 'every plain create: 201 (the ones beside the NUL too)');
  t.ok(g.requests.every((r, i) => !r.label.match(/^b event \d+$/) || groupedAnswers[i]!.status === 200), 'every event: 200');
  t.match(answer('a duplicate of an earlier external_id'), { status: 409, body: { ...failure('conflict'), error: { details: { external_id: 'taken' } } } });
  t.match(answer('a not installed'), { status: 403, body: failure('not_installed') });
  t.match(answer('b event not installed'), { status: 403, body: failure('not_installed') });
  t.equal(answer('core (platform) reaches a user who installed nothing').status, 201);
  t.same([answer('a replay of an earlier key').status, answer('a replay of an earlier key').body.notification_id], [201, replayedId.grp], 'the replay answers the earlier notification');
  t.match(answer('a earlier key, another body'), { status: 422, body: failure('idempotency_key_reused') });
  const keyed = [answer('a new key, first'), answer('a new key, second')];
  t.same(keyed.map((k) => k.status), [201, 201]);
  t.equal(keyed[0]!.body.notification_id, keyed[1]!.body.notification_id, 'one key twice in the burst: one notification, the other answer replays it');
  t.same(keyed.map((k) => k.headers.get('idempotent-replayed') === 'true').sort(), [false, true]);
  t.match(answer('a keyed create that fails'), { status: 403, body: failure('not_installed') });
  t.match(answer('a no template for template_data'), { status: 400, body: failure('validation_error') });
  t.match(answer('a NUL in context_data'), { status: 400, body: failure('invalid_value') });
  t.same([answer('b same new external_id, one').status, answer('b same new external_id, other').status].sort(), [201, 409]);

  // The rows: exactly the successful answers' (plus the two written before the burst).
  const rows = await written(db, [g.a.appId, g.b.appId, g.core.appId]);
  const created = groupedAnswers.filter((a) => a.status === 201 && a.headers.get('idempotent-replayed') !== 'true' && a.body.notification_id);
  t.same(rows.notifications.map((n: { id: string }) => n.id).sort(),
    [...created.map((a) => a.body.notification_id as string), replayedId.grp, ...(await written(db, [g.a.appId])).notifications.filter((n: { external_id: string }) => n.external_id === 'taken').map((n: { id: string }) => n.id)].sort(),
    'a notification row for each 201 (and the two made before), none for a failure');
  t.same(rows.events.map((e: { id: string }) => e.id).sort(), groupedAnswers.filter((a) => a.status === 200).map((a) => a.body.event_id as string).sort(), 'an event row for each 200');
  t.same(rows.keys, [
    { app_id: g.a.appId, key: 'k-new', response_status: 201 },
    { app_id: g.a.appId, key: 'k-replay', response_status: 201 },
  ], 'keys of answered creates stored; the failed create left no claim behind');
  t.same(rows.keys.map((k: { key: string }) => k.key), (await written(db, [s.a.appId])).keys.map((k: { key: string }) => k.key), 'the same keys as alone');

  // The failed keyed create may be retried with its key (alone, its rollback would have freed it too).
  await db.system.query(`insert into oriva.app_installations (user_id, app_id) values ($1, $2)`, [g.stranger, g.a.appId]);
  const retried = await send(groupedCall, g.requests.find((r) => r.label === 'a keyed create that fails')!);
  t.same([retried.status, retried.headers.get('idempotent-replayed')], [201, null], 'the retry with the same key is written');
});

t.test('Postgres killed during a shared transaction: every member is answered 503 and none is written', async (t) => {
  const pg = await privatePostgres(t);
  const setup = makePool(pg.url, { role: 'oriva_system' });
  t.teardown(() => setup.end());
  const app = await createApp(setup, { id: 'work-buddy', name: 'Work Buddy', iconUrl: null, platform: false });
  // Inserting a notification titled "slow" takes a second: long enough to stop Postgres mid-flush.
  const admin = new pgLib.Client({ connectionString: pg.url });
  await admin.connect();
  await admin.query(`create function public.test_slow_insert() returns trigger language plpgsql as $$
    begin if new.title = 'slow' then perform pg_sleep(1); end if; return new; end $$;
    create trigger test_slow_insert before insert on oriva.platform_notifications for each row execute function public.test_slow_insert();`);
  await admin.end();
  const config = testConfig({ GROUP_COMMIT_FLUSHES: '1' });
  const server = await startServer(config, pg.url, testLogger('server', config), 0);
  t.teardown(() => server.close());
  const call = client(server);
  const auth = { authorization: `Bearer ${app.api_key}` };
  const create = (externalId: string, title = 'fine') => call('POST', '/apps/work-buddy/notifications', { headers: auth, json: notification({ external_id: externalId, title }) });

  // The first create holds the only flush for a second; ten more queue behind it and are flushed
  // together, their first row slow again: Postgres stops while that shared statement runs.
  const first = create('first', 'slow');
  await new Promise((r) => setTimeout(r, 200));
  const burst = [create('member-0', 'slow'), ...Array.from({ length: 9 }, (_, i) => create(`member-${i + 1}`))];
  t.equal((await first).status, 201, 'the create before them committed');
  const watcher = new pgLib.Client({ connectionString: pg.url });
  await watcher.connect();
  for (let i = 0; i < 50; i++) {
    const { rows } = await watcher.query(`select 1 from pg_stat_activity where wait_event = 'PgSleep' and application_name = 'oriva-server'`);
    if (rows.length > 0) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  await watcher.end();
  await pg.stop();
  const answers = await Promise.all(burst);
  t.same(answers.map((a) => a.status), Array(10).fill(503), 'all ten: 503');
  t.ok(answers.every((a) => a.body.error.code === 'unavailable'));
  await pg.start();
  const check = new pgLib.Client({ connectionString: pg.url });
  await check.connect();
  const { rows } = await check.query(`select external_id from oriva.platform_notifications order by external_id`);
  await check.end();
  t.same(rows.map((r) => r.external_id), ['first'], 'none of the ten was written');
});

t.test('a second flush starts beside the first only once GROUP_COMMIT_MORE_AT creates wait', async (t) => {
  const pool = makePool(db.url, { role: 'oriva_api', max: 4 });
  t.teardown(() => pool.end());
  // A kind whose writes hold their flush open until the test lets them go.
  let running = 0;
  const sizes: number[] = [];
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  const kind: GroupKind<number> = {
    name: 'held',
    write: async (_client, _appId, items) => {
      running += 1;
      sizes.push(items.length);
      await held;
      running -= 1;
      return items.map((item) => ({ status: 201, body: { item } }));
    },
  };
  const commits = new GroupCommit(pool, { enabled: true, flushes: 2, moreAt: 4, maxMembers: 100 }, async () => []);
  const submit = (item: number) => commits.submit(kind, { actor: { appId: 'held-app', keyHash: null }, key: null, item });
  const settle = () => new Promise((r) => setTimeout(r, 150));

  const replies = [submit(0)];
  await settle();
  t.same([running, sizes], [1, [1]], 'with no flush in flight, the first create starts one at once');
  replies.push(submit(1), submit(2), submit(3));
  await settle();
  t.same([running, sizes], [1, [1]], 'three waiting (fewer than 4): no second flush');
  replies.push(submit(4));
  await settle();
  t.same([running, sizes], [2, [1, 4]], 'the fourth starts a second flush with all four');
  release();
  t.same((await Promise.all(replies)).map((r) => (r.body as { item: number }).item), [0, 1, 2, 3, 4], 'each answered with its own reply');
  t.same(commits.stats, { flushes: 2, members: 5, splits: 0 });
});
