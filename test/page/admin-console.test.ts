// The admin console (/admin, issue 17) in a real browser against the real server, worker and
// Postgres: only a platform app's key signs in (another key sees nothing); charts render the scripted
// data and its rates; the per-app table escapes app names; search finds a notification by a word of
// its body; replay from the webhook-health table re-sends a failed delivery to a real receiver; the
// broadcast composer sends; keyboard only, phone width, no CSP violation, no dialog.
import t from 'tap';
import { rollUpStats } from '../../worker/stats/rollup.js';
import { testDatabase } from '../helpers/db.js';
import { createTestApp, startTestServer, startTestWorker, userAuth } from '../helpers/stack.js';
import { insertWebhook, until } from '../worker/helpers/fixtures.js';
import { startReceiver } from '../worker/helpers/receiver.js';
import { launchChromium, SCREENSHOTS, watchPage } from './browser.js';

const HOSTILE = '<img src=x onerror=alert(1)>';
const db = await testDatabase(t);
const server = await startTestServer(t, db);
await startTestWorker(t, db, { WEBHOOK_ALLOWLIST: '127.0.0.1' });
const core = await createTestApp(db, { id: 'oriva-core', name: 'Oriva Core', platform: true });
const buddy = await createTestApp(db, { id: 'work-buddy', name: 'Work Buddy' });
const hostile = await createTestApp(db, { id: 'hostile-app', name: HOSTILE });
const receiver = await startReceiver(t);
let receiverUp = false;
receiver.on('/buddy', (_req, res, count) => res.writeHead(receiverUp || count > 4 ? 200 : 503).end());
const hook = await insertWebhook(db.system, buddy.appId, { url: receiver.url('/buddy'), events: ['notification.created'], maxRetries: 0 });
const browser = await launchChromium();
t.teardown(() => browser.close());

async function api(method: string, path: string, auth: Record<string, string>, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${server.url}/api/v1${path}`, {
    method, headers: { ...auth, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: res.status === 204 ? null : await res.json() };
}

// The scripted data: Work Buddy sends 6 notifications (one with the word "aubergine" in its body),
// 3 are read; its webhook answers 503 to the first 4 deliveries (fewer than the 5 in a row that open
// the circuit breaker); the hostile-named app sends one.
const ann = await userAuth('ann');
t.test('the scripted data, through the API, rolled up', async (t) => {
  const ids: string[] = [];
  for (let i = 1; i <= 6; i++) {
    const r = await api('POST', `/apps/${buddy.appId}/notifications`, buddy.auth, {
      external_id: `console-${i}`, user_id: 'ann', notification_type: 'task_assigned', category: 'task',
      title: `Task ${i}`, body: i === 4 ? 'Buy an aubergine for the team lunch' : `Body ${i}`,
    });
    t.equal(r.status, 201);
    ids.push(r.body.notification_id as string);
  }
  for (const id of ids.slice(0, 3)) t.equal((await api('PATCH', `/notifications/${id}`, ann.auth, { status: 'read' })).status, 200);
  t.equal((await api('POST', `/apps/${hostile.appId}/notifications`, hostile.auth, { external_id: 'h1', user_id: 'ann', notification_type: 'x', title: 'Hi', body: 'There' })).status, 201);
  await until(async () => (await db.system.query('select count(*)::int as n from oriva.webhook_delivery_log ')).rows[0].n === 6, 15_000, '6 deliveries recorded');
  await rollUpStats(db.system);
});

t.test('a key that is not a platform app’s sees nothing', async (t) => {
  const page = await browser.newPage({ locale: 'en-US' });
  const seen = watchPage(page);
  await page.goto(`${server.url}/admin`);
  await page.locator('#key-input').fill(buddy.apiKey);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await t.resolves(page.getByText('This key is not a platform app’s: the console is for platform operators.').waitFor());
  t.equal(await page.locator('#console').isHidden(), true, 'the console stays hidden');
  t.equal(await page.locator('#apps-table tbody tr').count(), 0, 'nothing rendered');
  t.same(seen, { dialogs: [], errors: [] });
  await page.close();
});

t.test('a platform key signs in with the keyboard; charts, rates and the app table show the scripted data', async (t) => {
  const page = await browser.newPage({ locale: 'en-US', viewport: { width: 1200, height: 900 } });
  const seen = watchPage(page);
  await page.goto(`${server.url}/admin`);
  await page.locator('#key-input').focus();
  await page.keyboard.type(core.apiKey);
  await page.keyboard.press('Enter');
  await page.locator('#apps-table tbody tr').first().waitFor();
  t.equal(await page.locator('#who').textContent(), 'Oriva Core');

  // two charts drawn on canvas, with their data tables
  for (const id of ['#chart-notifications', '#chart-webhooks']) {
    const drawn = await page.locator(`${id} canvas`).evaluate((canvas: HTMLCanvasElement) => {
      const pixels = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
      let painted = 0;
      for (let i = 3; i < pixels.length; i += 4) if (pixels[i]! > 0) painted++;
      return { width: canvas.width, painted };
    });
    t.ok(drawn.width > 200 && drawn.painted > 500, `${id} is drawn (${drawn.painted} pixels)`);
  }
  const hour = new Date().toISOString().slice(0, 13).replace('T', ' ');
  const row = page.locator('#data-notifications tbody tr', { has: page.locator(`th:text-is("${hour}")`) });
  t.same(await row.locator('td').allTextContents(), ['7', '7', '3', '0', '0'], 'this hour: 7 created, 7 delivered, 3 read, 0 clicked, 0 suppressed');
  const hooksRow = page.locator('#data-webhooks tbody tr', { has: page.locator(`th:text-is("${hour}")`) });
  t.same(await hooksRow.locator('td').allTextContents(), ['2', '4'], 'this hour: 2 webhook attempts ok, 4 failed');
  t.equal(await page.locator('[data-rate="viewed"] dd').first().textContent(), '42.9%', 'viewed 3 of 7');
  t.equal(await page.locator('[data-rate="webhook_success"] dd').first().textContent(), '33.3%');

  const apps = page.locator('#apps-table tbody tr');
  t.equal(await apps.count(), 2);
  t.same(await apps.nth(0).locator('th, td').allTextContents(), ['Work Buddy work-buddy', '6', '6', '50.0%', '0.0%', '0 sent, 0 failed', '33.3%']);
  t.equal(await apps.nth(1).locator('.app-cell').textContent(), HOSTILE, 'a hostile app name is shown as text');
  t.equal(await page.locator('#apps-table img').count(), 0, 'and never becomes an element');

  // one app's figures
  await page.locator('#app-filter').selectOption('work-buddy');
  await page.locator('[data-rate="viewed"] dd', { hasText: '50.0%' }).waitFor();
  await page.screenshot({ path: `${SCREENSHOTS}/admin-console.png`, fullPage: true });
  t.same(seen, { dialogs: [], errors: [] }, 'no dialog, no script error, no CSP violation');
  await page.close();
});

t.test('without its chart library the console still shows every figure, as tables', async (t) => {
  const page = await browser.newPage({ locale: 'en-US' });
  const seen = watchPage(page);
  await page.route('**/assets/vendor/uplot.js', (route) => route.abort());
  await page.goto(`${server.url}/admin`);
  await page.locator('#key-input').fill(core.apiKey);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('#apps-table tbody tr').first().waitFor();
  t.equal(await page.locator('#chart-notifications').textContent(), 'Charts cannot be drawn in this browser: the figures are in the data table below.');
  t.equal(await page.locator('#chart-notifications canvas').count(), 0);
  const hour = new Date().toISOString().slice(0, 13).replace('T', ' ');
  const row = page.locator('#data-notifications tbody tr', { has: page.locator(`th:text-is("${hour}")`) });
  t.ok(await row.isVisible(), 'the data table is open');
  t.same((await row.locator('td').allTextContents()).slice(0, 3), ['7', '7', '3']);
  t.same(seen.dialogs, []);
  await page.close();
});

// The chart library arrives late (a slow network, a busy machine): a key submitted before it did
// still signs in, and the charts are drawn once it is there.
t.test('a key submitted while the chart library is still loading signs in', async (t) => {
  const page = await browser.newPage({ locale: 'en-US' });
  const seen = watchPage(page);
  let release = () => {};
  const arrived = new Promise<void>((resolve) => (release = resolve));
  await page.route('**/assets/vendor/uplot.js', async (route) => {
    await arrived;
    await route.continue();
  });
  await page.goto(`${server.url}/admin`, { waitUntil: 'domcontentloaded' });
  await page.locator('#key-input').fill(core.apiKey);
  await page.locator('#key-input').press('Enter');
  await page.locator('#who').waitFor();
  t.equal(await page.locator('#who').textContent(), 'Oriva Core', 'signed in before the chart library arrived');
  release();
  await page.locator('#chart-notifications canvas').waitFor();
  await page.locator('#apps-table tbody tr').first().waitFor();
  t.equal(await page.locator('#apps-table tbody tr').count(), 2, 'then the figures are drawn');
  t.same(seen, { dialogs: [], errors: [] });
  await page.close();
});

t.test('search finds a notification by a word of its body', async (t) => {
  const page = await browser.newPage({ locale: 'en-US' });
  const seen = watchPage(page);
  await page.goto(`${server.url}/admin`);
  await page.locator('#key-input').fill(core.apiKey);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('#search-q').fill('aubergine');
  await page.getByRole('button', { name: 'Search', exact: true }).click();
  await page.getByText('1 notification found').waitFor();
  t.same(await page.locator('#search-results .title').allTextContents(), ['Task 4']);
  await page.locator('#search-q').fill('');
  await page.locator('#search-app').fill('work-buddy');
  await page.getByRole('button', { name: 'Search', exact: true }).click();
  await page.getByText('6 notifications found').waitFor();
  await page.locator('#search-q').fill('"no such words"');
  await page.getByRole('button', { name: 'Search', exact: true }).click();
  await page.getByText('0 notifications found').waitFor();
  t.same(seen, { dialogs: [], errors: [] });
  await page.close();
});

t.test('replay from the webhook-health table re-sends the failed deliveries', async (t) => {
  const page = await browser.newPage({ locale: 'en-US' });
  const seen = watchPage(page);
  await page.goto(`${server.url}/admin`);
  await page.locator('#key-input').fill(core.apiKey);
  await page.getByRole('button', { name: 'Sign in' }).click();
  const row = page.locator(`#health-table tr[data-webhook="${hook.id}"]`);
  await row.waitFor();
  t.equal(await row.locator('th').textContent(), 'Work Buddy');
  t.equal(await row.locator('.url').textContent(), receiver.url('/buddy'));
  t.equal(await row.locator('td').nth(2).textContent(), '4 of 6 failed');
  t.match(await row.locator('.errors li').first().textContent(), /HTTP 503|503/, 'its last errors');
  receiverUp = true;
  const before = receiver.requests('/buddy').length;
  await row.getByRole('button', { name: 'Replay failed' }).click();
  await page.getByText("4 failed deliveries of Work Buddy's webhook queued again.").waitFor();
  await receiver.waitFor('/buddy', before + 4);
  const replayed = receiver.requests('/buddy').slice(before);
  t.equal(new Set(replayed.map((r) => r.headers['webhook-id'])).size, 4, 'each failed delivery once, with its own webhook-id');
  t.same(seen, { dialogs: [], errors: [] });
  await page.close();
});

t.test('the broadcast composer sends as the platform app', async (t) => {
  const page = await browser.newPage({ locale: 'en-US' });
  await page.goto(`${server.url}/admin`);
  await page.locator('#key-input').fill(core.apiKey);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('#broadcast-title-input').fill('Maintenance tonight');
  await page.locator('#broadcast-body').fill('Oriva is down 02:00–02:30 UTC');
  await page.getByRole('button', { name: 'Send broadcast' }).click();
  await page.getByText(/^Broadcast sent at /).waitFor();
  const { rows } = await db.system.query(`select n.title, b.topic from oriva.broadcasts b join oriva.platform_notifications n on n.id = b.id where b.app_id = 'oriva-core'`);
  t.same(rows, [{ title: 'Maintenance tonight', topic: null }]);
  await page.close();
});

t.test('phone width: nothing overflows the page', async (t) => {
  const page = await browser.newPage({ locale: 'en-US', viewport: { width: 375, height: 800 } });
  const seen = watchPage(page);
  await page.goto(`${server.url}/admin`);
  await page.locator('#key-input').fill(core.apiKey);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('#apps-table tbody tr').first().waitFor();
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  t.ok(width <= 375, `the page is ${width}px wide`);
  await page.screenshot({ path: `${SCREENSHOTS}/admin-console-phone.png`, fullPage: true });
  t.same(seen, { dialogs: [], errors: [] });
  await page.close();
});
