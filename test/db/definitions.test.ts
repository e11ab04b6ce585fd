// One definition of each domain word (issue 12): where a word lives on both sides of the process
// boundary — notification states and their moves, "unread", job names, event types, the routing
// step's channels — the SQL definition and the TypeScript one are compared here, so either side
// drifting fails the suite.
import { readdirSync, readFileSync } from 'node:fs';
import t from 'tap';
import { createApp } from '../../lib/apps.js';
import { RESERVED_EVENT_CATEGORIES } from '../../lib/events.js';
import { JOB } from '../../lib/jobs.js';
import { makeLogger } from '../../lib/log.js';
import { IN_FEED_STATUSES, NOTIFICATION_STATUSES, REQUESTABLE_STATUSES, TRANSITIONS } from '../../lib/notification-states.js';
import { fromRoot } from '../../lib/paths.js';
import { CHANNELS, ROUTE_REASONS, SUPPRESSION_REASONS, type Route } from '../../lib/routing.js';
import { NOTIFICATION_CATEGORIES } from '../../lib/schemas/notifications.js';
import { CHANNEL_SWITCHES } from '../../lib/schemas/preferences.js';
import { PLATFORM_EVENT_TYPES } from '../../lib/schemas/event-types.js';
import { taskList, type TaskDeps } from '../../worker/tasks/index.js';
import { testDatabase } from '../helpers/db.js';
import { HIDDEN_STATUSES, STATUS_OF_EVENT } from '../../client/src/index.js';

// The page's settings are browser JavaScript without types; imported by a path held in a variable.
const pageSettings = '../../server/public/settings.js';
const settingsPage = (await import(pageSettings)) as { CATEGORIES: string[]; CHANNELS: string[] };

const db = await testDatabase(t);
const sorted = (values: Iterable<string>) => [...values].sort();

/** Every runtime statement in sql/ (not the generated schema), by path. */
function statements(): Map<string, string> {
  const files = new Map<string, string>();
  for (const area of readdirSync(fromRoot('sql'), { withFileTypes: true })) {
    if (!area.isDirectory()) continue;
    for (const file of readdirSync(fromRoot('sql', area.name))) {
      files.set(`sql/${area.name}/${file}`, readFileSync(fromRoot('sql', area.name, file), 'utf8'));
    }
  }
  return files;
}

t.test('notification states: the domain, the moves table, lib/notification-states.ts and the page agree', async (t) => {
  const { rows: [domain] } = await db.system.query(`
    select pg_get_constraintdef(c.oid) as def
      from pg_constraint c join pg_type ty on ty.oid = c.contypid
     where ty.typname = 'notification_status'`);
  const inDomain = [...(domain.def as string).matchAll(/'(\w+)'::text/g)].map((m) => m[1]!);
  t.same(sorted(inDomain), sorted(NOTIFICATION_STATUSES), 'oriva.notification_status holds the states of NOTIFICATION_STATUSES');

  const { rows: moves } = await db.system.query('select from_status, to_status from oriva.notification_transitions');
  const inTable = moves.map((m) => `${m.from_status}→${m.to_status}`);
  const inTs = Object.entries(TRANSITIONS).flatMap(([from, tos]) => tos.map((to) => `${from}→${to}`));
  t.same(sorted(inTable), sorted(inTs), 'oriva.notification_transitions holds exactly TRANSITIONS');

  const targets = new Set(Object.values(TRANSITIONS).flat());
  t.same(sorted(REQUESTABLE_STATUSES), sorted([...targets].filter((s) => s !== 'expired')), 'a PATCH may ask for every move but expiry');
  t.same(sorted(HIDDEN_STATUSES), sorted(NOTIFICATION_STATUSES.filter((s) => !(IN_FEED_STATUSES as readonly string[]).includes(s))),
    "the client's feed store hides what oriva.in_feed leaves out");
  t.same(sorted(Object.keys(STATUS_OF_EVENT)), sorted(targets), 'the feed store knows the event of every move');
  for (const [event, status] of Object.entries(STATUS_OF_EVENT)) t.equal(event, status, `notification.${event} moves to ${status}`);

  const { rows: [feed] } = await db.system.query(`
    select array_agg(s order by s) as shown from unnest($1::text[]) s where oriva.in_feed(s, null)`, [NOTIFICATION_STATUSES]);
  t.same(feed.shown, sorted(IN_FEED_STATUSES), 'oriva.in_feed shows IN_FEED_STATUSES');
});

t.test('"unread" has one definition: no statement spells it out instead of calling oriva.is_unread', async (t) => {
  const spelled = [...statements()].filter(([, text]) => /(?<![:\w])(?:\w+\.)?status\s*=\s*'unread'/.test(text.replace(/--[^\n]*/g, '')));
  t.same(spelled.map(([path]) => path), []);
  const { rows } = await db.system.query(`
    select s, oriva.is_unread(s, null) as fresh, oriva.is_unread(s, now() - interval '1 second') as past
      from unnest($1::text[]) s`, [NOTIFICATION_STATUSES]);
  t.same(rows.filter((r) => r.fresh).map((r) => r.s), ['unread'], 'unread and not expired');
  t.same(rows.filter((r) => r.past), [], 'past its expires_at, nothing is unread');
});

t.test('job names: the SQL that enqueues, worker/crontab and the worker task list use JOB', async (t) => {
  const jobNames = sorted(Object.values(JOB));
  const { rows } = await db.system.query(`
    select p.proname, (regexp_matches(p.prosrc, 'add_job\\(\\s*''(\\w+)''', 'g'))[1] as job
      from pg_proc p join pg_namespace n on n.oid = p.pronamespace
     where n.nspname = 'oriva'`);
  t.ok(rows.length >= 2, 'the enqueue functions are found');
  for (const row of rows) t.ok(jobNames.includes(row.job), `${row.proname} enqueues ${row.job}, a JOB`);
  for (const [path, text] of statements()) {
    t.notMatch(text, /add_job\(\s*'/, `${path} enqueues through an oriva.enqueue_* function, not a job name of its own`);
  }

  const crontab = readFileSync(fromRoot('worker', 'crontab'), 'utf8').split('\n').filter((line) => line.trim() && !line.startsWith('#'));
  const cronTasks = crontab.map((line) => line.trim().split(/\s+/)[5]!);
  t.ok(cronTasks.length > 0);
  for (const task of cronTasks) t.ok(jobNames.includes(task), `worker/crontab runs ${task}, a JOB`);

  const deps = { config: {}, databaseUrl: db.url, log: makeLogger('definitions-test', 'error'), pool: db.system } as unknown as TaskDeps;
  t.same(sorted(Object.keys(taskList(deps))), jobNames, 'the worker has a task for each JOB and no other');
});

t.test('event types: every platform event the SQL records is in the catalog (lib/schemas/event-types.ts)', async (t) => {
  const catalog = new Set(PLATFORM_EVENT_TYPES.map((e) => e.name));
  const recorded = new Set<string>();
  for (const text of statements().values()) {
    for (const m of text.matchAll(/row\(\s*[\w.]+,\s*[\w.]+,\s*'(\w+)',\s*'(\w+)'/g)) recorded.add(`${m[1]}.${m[2]}`);
  }
  const { rows: moves } = await db.system.query('select distinct to_status from oriva.notification_transitions');
  for (const m of moves) recorded.add(`notification.${m.to_status}`); // oriva.state_change_event: the type is the new state
  t.ok(recorded.has('notification.created') && recorded.has('notification.deleted'), 'the statements are found');
  t.same(sorted([...recorded].filter((name) => !catalog.has(name))), [], 'none missing from the catalog');
  t.same(sorted([...catalog].filter((name) => !recorded.has(name))), [], 'none in the catalog that nothing records');
  for (const name of catalog) {
    t.ok((RESERVED_EVENT_CATEGORIES as readonly string[]).includes(name.split('.')[0]!), `${name}: its category is reserved for the platform`);
  }
});

t.test('the routing step: oriva.route_notifications gives each recipient a route per channel of lib/routing.ts', async (t) => {
  await createApp(db.system, { id: 'router', name: 'Router' });
  await db.system.query(`insert into oriva.app_installations (user_id, app_id) values ('u1', 'router'), ('u2', 'router')`);
  const route = async (users = ['u1', 'u2'], installRequired = true, types = users.map(() => 'note'), categories = users.map(() => 'system')) =>
    (await db.system.query<Route & { ord: number; user_id: string }>(
      'select * from oriva.route_notifications($1, $2, $3, $4, $5) order by ord, channel', ['router', users, types, categories, installRequired])).rows;

  const before = await route();
  t.same(sorted(new Set(before.map((r) => r.channel))), sorted(CHANNELS), 'one route per channel in CHANNELS');
  t.same(before.map((r) => [r.ord, r.user_id]), [[1, 'u1'], [1, 'u1'], [1, 'u1'], [2, 'u2'], [2, 'u2'], [2, 'u2']], 'each notification routed to its own user');
  t.same(before.map((r) => `${r.channel}:${r.decision}:${r.reason}`),
    ['email:skip:no_address', 'in_app:deliver:default', 'webhook:skip:no_subscribed_webhook',
     'email:skip:no_address', 'in_app:deliver:default', 'webhook:skip:no_subscribed_webhook']);

  await db.system.query(`insert into oriva.app_webhooks (app_id, webhook_url, webhook_secret, subscribed_events)
                         values ('router', 'https://example.com/hook', 'x', array['notification.*'])`);
  const after = await route();
  t.same(after.filter((r) => r.channel === 'webhook').map((r) => `${r.decision}:${r.reason}`), ['deliver:subscribed', 'deliver:subscribed'],
    'a webhook that hears notification.created is a delivering channel');

  const stranger = await route(['u3']);
  t.same(stranger.map((r) => `${r.channel}:${r.decision}:${r.reason}`), ['email:refuse:not_installed', 'in_app:refuse:not_installed', 'webhook:refuse:not_installed'],
    'the installation rule refuses a user who did not install the app, on every channel');
  t.same((await route(['u3'], false)).map((r) => r.decision), ['skip', 'deliver', 'deliver'], 'unless INSTALL_REQUIRED is off');

  // The preference rule: each reason of SUPPRESSION_REASONS comes from one switch of u1's document.
  const documents: Record<string, unknown> = {
    muted_app: { apps: { router: { muted: true } } },
    type_off: { apps: { router: { types: { note: { in_app: false } } } } },
    category_off: { categories: { social: { in_app: false } } },
    channel_off: { channels: { in_app: false } },
  };
  const suppressed: typeof before = [];
  for (const reason of SUPPRESSION_REASONS) {
    await db.system.query(`insert into oriva.user_preferences (user_id, document) values ('u1', $1)
                           on conflict (user_id) do update set document = excluded.document`, [documents[reason]]);
    const routes = await route(['u1', 'u2'], true, ['note', 'note'], ['social', 'social']);
    t.same(routes.map((r) => `${r.user_id}:${r.channel}:${r.decision}:${r.reason}`),
      [reason === 'muted_app' ? 'u1:email:suppress:muted_app' : 'u1:email:skip:no_address', `u1:in_app:suppress:${reason}`, 'u1:webhook:deliver:subscribed',
       'u2:email:skip:no_address', 'u2:in_app:deliver:default', 'u2:webhook:deliver:subscribed'],
      `${reason}: u1's in_app suppressed (and email too when the app is muted), the app's webhook not; u2 unaffected`);
    suppressed.push(...routes);
  }
  const security = await route(['u1'], true, ['note'], ['security']);
  t.same(security.find((r) => r.channel === 'in_app')!.decision, 'deliver', 'security passes a channel switch in_app');

  // The email channel: delivered as a digest with an address; suppressed by its own switches; skipped while the address bounces.
  const emailRoute = async (document: unknown, bounced = false, category = 'system') => {
    await db.system.query(`insert into oriva.user_preferences (user_id, document, email_bounced_at) values ('u1', $1, $2)
                           on conflict (user_id) do update set document = excluded.document, email_bounced_at = excluded.email_bounced_at`,
    [document, bounced ? new Date() : null]);
    const r = (await route(['u1'], true, ['note'], [category])).find((x) => x.channel === 'email')!;
    suppressed.push(r);
    return `${r.decision}:${r.reason}`;
  };
  const address = { email: { address: 'u1@example.com' } };
  t.equal(await emailRoute(address), 'deliver:digest');
  t.equal(await emailRoute({ ...address, categories: { system: { email: false } } }), 'suppress:category_off');
  t.equal(await emailRoute({ ...address, channels: { email: false } }, false, 'security'), 'suppress:channel_off', 'security email can be switched off');
  t.equal(await emailRoute(address, true), 'skip:bouncing');
  t.same(Object.keys(documents).sort(), sorted(SUPPRESSION_REASONS), 'every reason has a case');
  for (const r of [...before, ...after, ...stranger, ...suppressed]) {
    t.ok((ROUTE_REASONS[r.decision] as readonly string[]).includes(r.reason), `${r.decision}/${r.reason} is a reason of lib/routing.ts`);
  }
});

t.test('notification categories: the domain oriva.notification_category and NOTIFICATION_CATEGORIES agree', async (t) => {
  const candidates = [...NOTIFICATION_CATEGORIES, 'marketing', 'Security', ''];
  const accepted: string[] = [];
  for (const c of candidates) {
    const ok = await db.system.query('select $1::oriva.notification_category', [c]).then(() => true, () => false);
    if (ok) accepted.push(c);
  }
  t.same(sorted(accepted), sorted(NOTIFICATION_CATEGORIES));
  t.same(settingsPage.CATEGORIES, [...NOTIFICATION_CATEGORIES], "the settings page's categories");
  t.same(settingsPage.CHANNELS, [...CHANNEL_SWITCHES], "the settings page's channel switches (lib/schemas/preferences.ts)");
});

t.test("the platform's own event categories: oriva.is_reserved_category and RESERVED_EVENT_CATEGORIES agree", async (t) => {
  const candidates = [...RESERVED_EVENT_CATEGORIES, 'user', 'session', 'task', 'notifications', 'apps'];
  const { rows } = await db.system.query('select c from unnest($1::text[]) c where oriva.is_reserved_category(c)', [candidates]);
  t.same(sorted(rows.map((r) => r.c)), sorted(RESERVED_EVENT_CATEGORIES));
  const { rows: [fn] } = await db.system.query(`select prosrc from pg_proc where proname = 'is_reserved_category'`);
  const inSql = [...(fn.prosrc as string).matchAll(/'(\w+)'/g)].map((m) => m[1]!);
  t.same(sorted(inSql), sorted(RESERVED_EVENT_CATEGORIES), 'the function lists exactly those');
});
