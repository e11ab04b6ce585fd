// Templates (issue 15, item 4; DESIGN §10): an app's Liquid sources per notification_type, and
// creates (single and batch) with template_data instead of title and body — against the real API
// and Postgres. Every bad input is a 400 with the exact message and writes nothing.
import t from 'tap';
import { testDatabase } from '../helpers/db.js';
import { createTestApp, startTestServer, userAuth } from '../helpers/stack.js';

const db = await testDatabase(t);
const app = await createTestApp(db, { id: 'work-buddy', name: 'Work Buddy' });
const other = await createTestApp(db, { id: 'other-app', name: 'Other' });
const server = await startTestServer(t, db);

async function api(method: string, path: string, auth: Record<string, string>, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${server.url}/api/v1${path}`, {
    method, headers: { ...auth, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: res.status === 204 ? null : await res.json() };
}
const count = async (table: string) => Number((await db.system.query(`select count(*) from oriva.${table}`)).rows[0].count);
const template = {
  title: 'Session with {{ partner }} in {{ minutes }} minutes',
  body: 'Hi {{ user.name }}, it starts at {{ starts_at }}.',
  email_subject: 'Your session with {{ partner }}',
  email_body: '<p>Hi {{ user.name }}, your session with <b>{{ partner }}</b>. <a href="javascript:alert(1)">x</a> <a href="https://wb.example/s">Open</a></p><script>alert(2)</script>',
};
const data = { partner: 'Sarah', minutes: 10, user: { name: 'Sam' }, starts_at: '10:00' };
let counter = 0;
const create = (fields: Record<string, unknown>, auth = app.auth) =>
  api('POST', '/apps/work-buddy/notifications', auth, { external_id: `tpl-${++counter}`, user_id: 'sam', notification_type: 'session_reminder', ...fields });

t.test('PUT, GET, replace and DELETE a template; only the app itself', async (t) => {
  const put = await api('PUT', '/apps/work-buddy/templates/session_reminder', app.auth, template);
  t.equal(put.status, 201);
  t.match(put.body.template, { notification_type: 'session_reminder', ...template });
  const again = await api('PUT', '/apps/work-buddy/templates/session_reminder', app.auth, template);
  t.equal(again.status, 200, 'replaced');
  t.same((await api('GET', '/apps/work-buddy/templates/session_reminder', app.auth)).body.template.title, template.title);

  const foreign = await api('GET', '/apps/work-buddy/templates/session_reminder', other.auth);
  t.equal(foreign.status, 403, "another app's path");
  const user = await api('GET', '/apps/work-buddy/templates/session_reminder', (await userAuth('sam')).auth);
  t.equal(user.status, 403, 'a user token');
  t.equal((await api('GET', '/apps/other-app/templates/session_reminder', other.auth)).status, 404, "the other app sees none of work-buddy's templates");

  t.equal((await api('PUT', '/apps/work-buddy/templates/gone', app.auth, { title: 'a', body: 'b' })).status, 201);
  t.equal((await api('DELETE', '/apps/work-buddy/templates/gone', app.auth)).status, 204);
  const missing = await api('DELETE', '/apps/work-buddy/templates/gone', app.auth);
  t.same([missing.status, missing.body.error.message], [404, 'No template for notification_type "gone"']);
});

t.test('a template that does not parse, or a bad name, is a 400 and writes nothing', async (t) => {
  const before = await count('notification_templates');
  const cases: [string, unknown, string][] = [
    ['bad-title', { title: 'Hi {{ name', body: 'b' }, 'body/title does not parse: output "{{ name" not closed, line:1, col:4'],
    ['bad-body', { title: 't', body: '{% if %}x{% endif %}' }, 'body/body does not parse: invalid value expression: "", line:1, col:6'],
    ['bad-filter', { title: '{{ name | shout }}', body: 'b' }, 'body/title does not parse: undefined filter: shout, line:1, col:1'],
    ['no-body', { title: 't' }, 'body/body is required'],
    ['extra', { title: 't', body: 'b', layout: 'x' }, 'body/layout is not a known field'],
  ];
  for (const [type, body, message] of cases) {
    const res = await api('PUT', `/apps/work-buddy/templates/${type}`, app.auth, body);
    t.same([res.status, res.body.error.message], [400, message], type);
  }
  const longName = await api('PUT', `/apps/work-buddy/templates/${'x'.repeat(65)}`, app.auth, { title: 't', body: 'b' });
  t.equal(longName.status, 400, 'a notification_type over 64 characters');
  t.equal(await count('notification_templates'), before, 'nothing written');
});

t.test('a create with template_data renders title and body (single and batch) and keeps the email parts, sanitised', async (t) => {
  const res = await create({ template_data: data });
  t.equal(res.status, 201);
  const { rows: [stored] } = await db.system.query('select title, body from oriva.platform_notifications where id = $1', [res.body.notification_id]);
  t.same(stored, { title: 'Session with Sarah in 10 minutes', body: 'Hi Sam, it starts at 10:00.' });
  const feed = await api('GET', '/users/sam/notifications', (await userAuth('sam')).auth);
  t.equal(feed.body.notifications[0].title, 'Session with Sarah in 10 minutes');
  const { rows: [email] } = await db.system.query('select subject, html from oriva.notification_email_content where notification_id = $1', [res.body.notification_id]);
  t.equal(email.subject, 'Your session with Sarah');
  t.notMatch(email.html, /javascript:|<script>/, 'no script link, no script');
  t.match(email.html, '<a href="https://wb.example/s">Open</a>');

  const hostile = await create({ template_data: { ...data, partner: '<img src=x onerror=alert(1)>' } });
  const { rows: [escaped] } = await db.system.query('select n.title, c.html from oriva.platform_notifications n join oriva.notification_email_content c on c.notification_id = n.id where n.id = $1', [hostile.body.notification_id]);
  t.equal(escaped.title, 'Session with <img src=x onerror=alert(1)> in 10 minutes', 'plain text in the title (escaped where it is shown)');
  t.match(escaped.html, '<b>&lt;img src=x onerror=alert(1)&gt;</b>', 'escaped in the email HTML');

  const batch = await api('POST', '/apps/work-buddy/notifications/batch', app.auth, {
    notifications: [
      { external_id: 'tpl-b1', user_id: 'sam', notification_type: 'session_reminder', template_data: data },
      { external_id: 'tpl-b2', user_id: 'sam', notification_type: 'session_reminder', template_data: { partner: 'Sarah' } },
      { external_id: 'tpl-b3', user_id: 'sam', notification_type: 'plain', title: 'Plain', body: 'Text' },
    ],
  });
  t.equal(batch.status, 200);
  t.same(batch.body.results.map((r: { status: number }) => r.status), [201, 400, 201]);
  t.equal(batch.body.results[1].error.message, 'body/notifications/1/template_data title: undefined variable: minutes, line:1, col:34');
});

t.test('bad template_data is a 400 naming the problem, and nothing is written', async (t) => {
  await api('PUT', '/apps/work-buddy/templates/looping', app.auth, { title: '{% for i in (1..100000000) %}x{% endfor %}', body: 'b' });
  await api('PUT', '/apps/work-buddy/templates/including', app.auth, { title: "{% include '/etc/passwd' %}", body: 'b' });
  await api('PUT', '/apps/work-buddy/templates/long', app.auth, { title: '{{ s }}{{ s }}', body: 'b' });
  const before = await count('platform_notifications');
  const cases: [Record<string, unknown>, string][] = [
    [{ template_data: { partner: 'Sarah', minutes: 10, starts_at: '10:00' } }, 'body/template_data body: undefined variable: user, line:1, col:7'],
    [{ template_data: data, title: 'Also a title' }, 'body/template_data cannot be given with title or body: the template renders them'],
    [{ title: 'Only a title' }, 'body/body is required (or give template_data)'],
    [{ notification_type: 'unknown_type', template_data: data }, 'body/template_data no template for notification_type "unknown_type"'],
    [{ notification_type: 'looping', template_data: {} }, 'body/template_data title: memory alloc limit exceeded, line:1, col:1'],
    [{ notification_type: 'including', template_data: {} }, /^body\/template_data title: ENOENT: Failed to lookup "\/etc\/passwd"/],
    [{ notification_type: 'long', template_data: { s: 'x'.repeat(150) } }, 'body/title (rendered from the template) must NOT have more than 200 characters'],
    [{ template_data: 'not an object' }, 'body/template_data must be object'],
  ] as [Record<string, unknown>, string][];
  for (const [fields, message] of cases) {
    const started = Date.now();
    const res = await create(fields);
    t.equal(res.status, 400, JSON.stringify(fields).slice(0, 80));
    if (typeof message === 'string') t.equal(res.body.error.message, message);
    else t.match(res.body.error.message, message);
    t.ok(Date.now() - started < 2000, 'answered quickly');
  }
  t.equal(await count('platform_notifications'), before, 'nothing written');
});
