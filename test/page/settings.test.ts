// The settings view of the notification center, in a real browser against the real server, gateway
// and Postgres (issue 14, item 5): two pages of the same user; a change saved in one shows in the
// other at once (preferences.updated); a muted app's existing items stay and its new ones never
// appear; a save over a change made elsewhere is refused (412) and shows the latest; a bad address is
// the API's exact error and writes nothing. The time-zone picker defaults to the browser's zone.
import t from 'tap';
import type { BrowserContext, Page } from 'playwright-core';
import { startGateway } from '../../gateway/gateway.js';
import { freePort } from '../../lib/listen.js';
import { startServer } from '../../server/server.js';
import { testDatabase } from '../helpers/db.js';
import { createTestApp, testConfig, testLogger, userAuth, type TestApp } from '../helpers/stack.js';
import { launchChromium, SCREENSHOTS, watchPage } from './browser.js';

const USER = 'settings-user';
const HOSTILE = '<img src=x onerror=alert(1)>';
const ZONE = 'America/New_York';

const db = await testDatabase(t);
const demoApp = await createTestApp(db, { id: 'demo-app', name: 'Demo App' });
const workBuddy = await createTestApp(db, { id: 'work-buddy', name: 'Work Buddy' });
const hostile = await createTestApp(db, { id: 'hostile-app', name: HOSTILE });
const user = await userAuth(USER, 3600);
const gatewayPort = await freePort();
const serverConfig = testConfig({ INSTALL_REQUIRED: 'true' });
const server = await startServer(serverConfig, db.url, testLogger('server', serverConfig), 0, {
  demo: { appId: demoApp.appId, apiKey: demoApp.apiKey, userId: USER, userToken: user.token, gatewayUrl: `ws://127.0.0.1:${gatewayPort}` },
});
const gatewayConfig = testConfig({ ALLOWED_ORIGINS: server.url });
const gateway = await startGateway(gatewayConfig, db.url, testLogger('gateway', gatewayConfig), gatewayPort);
const browser = await launchChromium();
t.teardown(async () => {
  await browser.close();
  await gateway.close();
  await server.close();
});

async function api(method: string, path: string, auth: Record<string, string>, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> {
  const res = await fetch(`${server.url}/api/v1${path}`, {
    method,
    headers: { ...auth, ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: res.status === 204 ? null : await res.json() };
}
const stored = async () => (await api('GET', `/users/${USER}/preferences`, user.auth)).body.preferences;
let counter = 0;
const notify = (app: TestApp, title: string) => api('POST', `/apps/${app.appId}/notifications`, app.auth, {
  external_id: `settings-page-${++counter}`, user_id: USER, notification_type: 'test', title, body: 'Body',
});
const feedTitles = (page: Page) => page.locator('#feed .title').allTextContents();

/** A signed-in page with its settings dialog open. */
async function openSettings(context: BrowserContext): Promise<{ page: Page; seen: ReturnType<typeof watchPage> }> {
  const page = await context.newPage();
  const seen = watchPage(page);
  await page.goto(`${server.url}/`);
  await page.waitForFunction(() => (document.getElementById('token-input') as HTMLTextAreaElement).value.length > 0);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('#connection[data-state="live"]').waitFor({ timeout: 10_000 });
  await page.getByRole('button', { name: 'Settings' }).click();
  await page.getByRole('dialog', { name: 'Notification settings' }).waitFor();
  await page.waitForFunction(() => document.querySelectorAll('#settings-apps li').length === 3);
  return { page, seen };
}

for (const app of [workBuddy, hostile, demoApp]) {
  const res = await api('PUT', `/users/${USER}/apps/${app.appId}`, user.auth);
  if (res.status !== 201) throw new Error(`install ${app.appId}: ${res.status}`);
}

t.test('a change in one page shows in the other at once; a muted app stays in the feed but sends nothing new', async (t) => {
  t.equal((await notify(workBuddy, 'Sent before the mute')).status, 201);
  const contextA = await browser.newContext({ viewport: { width: 1280, height: 900 }, timezoneId: ZONE });
  const contextB = await browser.newContext({ viewport: { width: 390, height: 844 }, timezoneId: ZONE });
  const a = await openSettings(contextA);
  const b = await openSettings(contextB);

  // the defaults: everything on, security in-app locked on, no quiet hours, the browser's zone
  const boxes = a.page.locator('#settings-switches input[type="checkbox"]');
  t.equal(await boxes.count(), 10, 'all notifications and four categories, in app and email');
  t.same(await boxes.evaluateAll((els) => els.map((e) => (e as HTMLInputElement).checked)), Array(10).fill(true));
  const lockedSecurity = a.page.getByRole('checkbox', { name: 'Security: in app' });
  t.ok(await lockedSecurity.isDisabled(), 'security in the inbox cannot be switched off');
  t.notOk(await a.page.getByRole('checkbox', { name: /^Hold emails/ }).isChecked());
  t.equal(await a.page.locator('#quiet-zone').inputValue(), ZONE, 'the time-zone picker starts at the browser zone');
  t.same(await a.page.locator('#settings-apps .app-label').allTextContents(), ['Mute Demo App', `Mute ${HOSTILE}`, 'Mute Work Buddy'],
    'the installed apps, newest first; the hostile name as text');
  t.equal(await a.page.locator('#settings-apps img').count(), 0, 'no markup from an app name');

  // page A: mute Work Buddy, social email off, quiet hours 22:00–07:00 in the browser zone, an address
  await a.page.getByRole('checkbox', { name: 'Mute Work Buddy' }).check();
  await a.page.getByRole('checkbox', { name: 'Social: email' }).uncheck();
  await a.page.getByRole('checkbox', { name: /^Hold emails/ }).check();
  await a.page.locator('#quiet-start').fill('22:00');
  await a.page.locator('#quiet-end').fill('07:00');
  await a.page.getByLabel('Email address').fill('sam@example.com');
  const started = Date.now();
  await a.page.getByRole('button', { name: 'Save' }).click();
  await a.page.locator('#settings-status', { hasText: 'Saved.' }).waitFor({ timeout: 3000 });

  const saved = await stored();
  t.equal(saved.revision, 1);
  t.same(saved.apps, { 'work-buddy': { muted: true, types: {} }, 'hostile-app': { muted: false, types: {} }, 'demo-app': { muted: false, types: {} } });
  t.same(saved.categories.social, { in_app: true, email: false });
  t.same(saved.quiet_hours, { start: '22:00', end: '07:00', timezone: ZONE });
  t.same(saved.email.address, 'sam@example.com');

  // page B shows it without a reload
  await b.page.waitForFunction(() => (document.querySelector('input[name="mute:work-buddy"]') as HTMLInputElement).checked, null, { timeout: 3000 });
  t.ok(Date.now() - started < 3000, 'the other page shows the change within 3 s');
  t.notOk(await b.page.getByRole('checkbox', { name: 'Social: email' }).isChecked());
  t.ok(await b.page.getByRole('checkbox', { name: /^Hold emails/ }).isChecked());
  t.equal(await b.page.locator('#quiet-start').inputValue(), '22:00');
  t.equal(await b.page.getByLabel('Email address').inputValue(), 'sam@example.com');

  await b.page.screenshot({ path: `${SCREENSHOTS}settings-phone.png` });
  await a.page.screenshot({ path: `${SCREENSHOTS}settings.png` });

  // decisions are not retroactive: the old item stays; the muted app's new one never appears
  await b.page.getByRole('button', { name: 'Close' }).click();
  const muted = await notify(workBuddy, 'Sent after the mute');
  t.equal(muted.status, 201);
  t.same(muted.body.suppressed, [{ channel: 'in_app', reason: 'muted_app' }, { channel: 'email', reason: 'muted_app' }], 'muting switches off every channel');
  t.equal((await notify(demoApp, 'From an app not muted')).status, 201);
  for (const { page } of [a, b]) {
    await page.locator('#feed .title', { hasText: 'From an app not muted' }).waitFor({ timeout: 3000 });
    t.same((await feedTitles(page)).sort(), ['From an app not muted', 'Sent before the mute'], 'the muted app’s new notification is in no feed');
  }

  for (const { seen } of [a, b]) {
    t.same(seen.dialogs, [], 'no alert()');
    t.same(seen.errors, [], 'no page errors or CSP violations');
  }
  await contextA.close();
  await contextB.close();
});

t.test('a save over a change made elsewhere is refused and shows the latest; a bad address writes nothing', async (t) => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const { page, seen } = await openSettings(context);
  const before = await stored();

  // the user starts editing; meanwhile another device switches task email off
  await page.getByRole('checkbox', { name: 'Tasks: in app' }).uncheck();
  const elsewhere = await api('PATCH', `/users/${USER}/preferences`, user.auth, { categories: { task: { email: false } } }, { 'if-match': `"${before.revision}"` });
  t.equal(elsewhere.status, 200);
  await page.locator('#settings-notice', { hasText: 'changed in another tab or device' }).waitFor({ timeout: 3000 });
  t.notOk(await page.getByRole('checkbox', { name: 'Tasks: in app' }).isChecked(), 'an edit in progress is not thrown away by the push');

  await page.getByRole('button', { name: 'Save' }).click();
  await page.locator('#settings-notice', { hasText: 'yours were not saved' }).waitFor({ timeout: 3000 });
  const after = await stored();
  t.equal(after.revision, before.revision + 1, 'only the other device’s write');
  t.same(after.categories.task, { in_app: true, email: false });
  t.ok(await page.getByRole('checkbox', { name: 'Tasks: in app' }).isChecked(), 'the latest settings are shown');
  t.notOk(await page.getByRole('checkbox', { name: 'Tasks: email' }).isChecked());

  await page.getByLabel('Email address').fill('not an address');
  await page.getByRole('button', { name: 'Save' }).click();
  await page.locator('#settings-error', { hasText: 'body/email/address must be an email address' }).waitFor({ timeout: 3000 });
  t.same(await stored(), after, 'nothing written');

  t.same(seen.dialogs, []);
  t.same(seen.errors, []);
  await context.close();
});
