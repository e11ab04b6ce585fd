// "Your apps" in the notification center, in a real browser against the real server, gateway and
// Postgres (issue 13, item 4): the user sees the apps they installed, uninstalls one after a
// confirmation (Cancel changes nothing), the app can no longer reach them, and an installation made
// elsewhere appears live. App names are text, never markup.
import t from 'tap';
import { startGateway } from '../../gateway/gateway.js';
import { freePort } from '../../lib/listen.js';
import { startServer } from '../../server/server.js';
import { testDatabase } from '../helpers/db.js';
import { createTestApp, testConfig, testLogger, userAuth, type TestApp } from '../helpers/stack.js';
import { launchChromium, SCREENSHOTS, watchPage } from './browser.js';

const USER = 'apps-user';
const HOSTILE = '<img src=x onerror=alert(1)>';

const db = await testDatabase(t);
const core = await createTestApp(db, { id: 'oriva-core', name: 'Oriva Core', platform: true });
const demoApp = await createTestApp(db, { id: 'demo-app', name: 'Demo App' });
const workBuddy = await createTestApp(db, { id: 'work-buddy', name: 'Work Buddy', iconUrl: 'https://workbuddy.example/icon.png' });
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

async function api(method: string, path: string, auth: Record<string, string>, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${server.url}/api/v1${path}`, {
    method, headers: { ...auth, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: res.status === 204 ? null : await res.json() };
}
const install = async (app: TestApp) => {
  const res = await api('PUT', `/users/${USER}/apps/${app.appId}`, user.auth);
  if (res.status !== 201) throw new Error(`install ${app.appId}: ${res.status}`);
};
const installedIds = async () => (await api('GET', `/users/${USER}/apps`, user.auth)).body.apps.map((a: { app_id: string }) => a.app_id);
let counter = 0;
const notify = (app: TestApp) => api('POST', `/apps/${app.appId}/notifications`, app.auth, {
  external_id: `apps-page-${++counter}`, user_id: USER, notification_type: 'test', title: 'Hello', body: 'Body',
});

t.test('the user sees their apps, uninstalls one after confirming, and the app can no longer reach them', async (t) => {
  await install(hostile);
  await install(workBuddy);
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  const page = await context.newPage();
  const seen = watchPage(page);

  await page.goto(`${server.url}/`);
  await page.waitForFunction(() => (document.getElementById('token-input') as HTMLTextAreaElement).value.length > 0);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('#connection[data-state="live"]').waitFor({ timeout: 10_000 });

  const names = page.locator('#apps .installed-name');
  await page.waitForFunction(() => document.querySelectorAll('#apps li').length === 2);
  t.same(await names.allTextContents(), ['Work Buddy', HOSTILE], 'newest first; the hostile name shown as text');
  t.equal(await page.locator('#apps img[src="https://workbuddy.example/icon.png"]').count(), 1, 'the icon of an https URL');
  t.equal(await page.locator('#apps li[data-app-id="hostile-app"] img').count(), 0, 'no markup from the name');

  // Cancel: nothing changes.
  await page.getByRole('button', { name: 'Uninstall Work Buddy' }).click();
  const dialog = page.getByRole('dialog');
  await dialog.waitFor();
  t.match(await dialog.textContent(), /Uninstall Work Buddy\?/);
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  await dialog.waitFor({ state: 'hidden' });
  t.same(await installedIds(), ['work-buddy', 'hostile-app'], 'Cancel uninstalls nothing');

  // Confirm: uninstalled, gone from the list, and the app is refused.
  await page.getByRole('button', { name: 'Uninstall Work Buddy' }).click();
  await dialog.getByRole('button', { name: 'Uninstall' }).click();
  await page.waitForFunction(() => !document.querySelector('#apps li[data-app-id="work-buddy"]'));
  t.same(await installedIds(), ['hostile-app']);
  const refused = await notify(workBuddy);
  t.equal(refused.status, 403);
  t.equal(refused.body.error.code, 'not_installed');
  await page.screenshot({ path: `${SCREENSHOTS}installed-apps.png`, fullPage: true });

  // Installed elsewhere (a platform app, for this user): the list updates live from the gateway.
  const started = Date.now();
  t.equal((await api('PUT', `/users/${USER}/apps/demo-app`, core.auth)).status, 201);
  await page.locator('#apps li[data-app-id="demo-app"]').waitFor({ timeout: 3000 });
  t.ok(Date.now() - started < 3000, 'appears without a reload');
  t.equal((await notify(demoApp)).status, 201, 'the newly installed app reaches the user');

  t.same(seen.dialogs, [], 'no alert()');
  t.same(seen.errors, [], 'no page errors or CSP violations');
  await context.close();
});
