// The notification center in a real browser (Debian's Chromium via playwright-core) against the real
// server, gateway and Postgres: two pages signed in as the same user stay in sync, hostile text stays
// text, the page works through the client SDK with WebSockets blocked (long-polling, two pages in sync
// within 2 s) and returns to the WebSocket, resumes after the gateway restarts, and refetches the
// feed while the gateway is gone. The page reaches the gateway through a proxy on loopback that can
// refuse WebSocket upgrades (test/helpers/upgrade-proxy.ts).
// Screenshots go to test/screenshots/; ORIVA_UPDATE_DOCS_SCREENSHOT=1 also refreshes
// docs/notification-center.png (the README's).
import { copyFileSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { BrowserContext, Page, Route } from 'playwright-core';
import t from 'tap';
import { startGateway, type GatewayHandle } from '../../gateway/gateway.js';
import { freePort } from '../../lib/listen.js';
import { signUserToken } from '../../lib/tokens.js';
import { startServer } from '../../server/server.js';
import { testDatabase } from '../helpers/db.js';
import { createTestApp, testConfig, testLogger, userAuth, type TestApp } from '../helpers/stack.js';
import { startUpgradeProxy } from '../helpers/upgrade-proxy.js';
import { launchChromium, SCREENSHOTS, watchPage } from './browser.js';

const USER = 'demo-user';
const HOSTILE = '<img src=x onerror=alert(1)>';
const LIVE_WITHIN_MS = 1000;

// Setup: the stack on free ports. The page learns the gateway URL from /dev-config.json, so the
// gateway's port is chosen first and kept across restarts.
const db = await testDatabase(t);
const demoApp = await createTestApp(db, { id: 'demo-app', name: 'Demo App' });
const workBuddy = await createTestApp(db, { id: 'work-buddy', name: 'Work Buddy' });
const hugo = await createTestApp(db, { id: 'hugo-ai', name: 'Hugo AI' });
const user = await userAuth(USER, 24 * 3600);
const gatewayPort = await freePort();
const proxy = await startUpgradeProxy(t, () => gatewayPort);
const serverConfig = testConfig();
const server = await startServer(serverConfig, db.url, testLogger('server', serverConfig), 0, {
  demo: { appId: demoApp.appId, apiKey: demoApp.apiKey, userId: USER, userToken: user.token, gatewayUrl: `ws://127.0.0.1:${proxy.port}` },
});
const gatewayConfig = testConfig({ ALLOWED_ORIGINS: server.url });
const startOurGateway = () => startGateway(gatewayConfig, db.url, testLogger('gateway', gatewayConfig), gatewayPort);
let gateway: GatewayHandle = await startOurGateway();
const browser = await launchChromium();
t.teardown(async () => {
  await browser.close();
  await gateway.close();
  await server.close();
});

let counter = 0;
async function notify(app: TestApp, fields: Record<string, unknown>): Promise<string> {
  const res = await fetch(`${server.url}/api/v1/apps/${app.appId}/notifications`, {
    method: 'POST',
    headers: { ...app.auth, 'content-type': 'application/json' },
    body: JSON.stringify({ external_id: `page-test-${++counter}`, user_id: USER, notification_type: 'test', body: 'Body text', ...fields }),
  });
  const json = (await res.json()) as { notification_id?: string };
  if (res.status !== 201 || !json.notification_id) throw new Error(`create notification: ${res.status} ${JSON.stringify(json)}`);
  return json.notification_id;
}

async function feed(): Promise<{ unread_count: number; notifications: Array<{ id: string; status: string }> }> {
  const res = await fetch(`${server.url}/api/v1/users/${USER}/notifications?limit=100`, { headers: user.auth });
  if (res.status !== 200) throw new Error(`feed: ${res.status} ${await res.text()}`);
  return (await res.json()) as never;
}

interface Watched {
  page: Page;
  seen: ReturnType<typeof watchPage>;
  sockets: Array<{ url: string; frames: string[] }>;
}

async function openPage(context: BrowserContext): Promise<Watched> {
  const page = await context.newPage();
  const seen = watchPage(page);
  const sockets: Watched['sockets'] = [];
  page.on('websocket', (ws) => {
    const socket = { url: ws.url(), frames: [] as string[] };
    sockets.push(socket);
    ws.on('framereceived', (frame) => socket.frames.push(String(frame.payload)));
  });
  return { page, seen, sockets };
}

/** Sign in with the prefilled demo token, as a newcomer would, and wait for the live connection. */
async function signIn({ page }: Watched): Promise<void> {
  await page.goto(`${server.url}/`);
  const token = page.getByLabel('User token');
  await token.waitFor();
  await page.waitForFunction(() => (document.getElementById('token-input') as HTMLTextAreaElement).value.length > 0);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('#connection[data-state="live"]').waitFor({ timeout: 10_000 });
}

const item = (page: Page, id: string) => page.locator(`#feed li[data-id="${id}"]`);
const badgeText = (page: Page) =>
  page.evaluate(() => {
    const badge = document.getElementById('unread-badge')!;
    return badge.hidden ? '' : badge.textContent ?? '';
  });
async function waitBadge(page: Page, expected: number, timeout = 3000): Promise<void> {
  await waitBadgeOrFail(page, expected, timeout).catch(async (err: Error) => {
    throw new Error(`unread badge: expected ${expected}, shows ${JSON.stringify(await badgeText(page))} (${err.message.split('\n')[0]})`);
  });
}
async function waitBadgeOrFail(page: Page, expected: number, timeout: number): Promise<void> {
  await page.waitForFunction(
    (n) => {
      const badge = document.getElementById('unread-badge')!;
      return n === 0 ? badge.hidden : !badge.hidden && badge.textContent === String(n);
    },
    expected,
    { timeout },
  );
}
const shot = (page: Page, name: string) => page.screenshot({ path: `${SCREENSHOTS}${name}.png`, fullPage: true });

const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
const one = await openPage(context);
const two = await openPage(context);

t.test('the feed: branding, priority, relative time, unread badge (README screenshot)', async (t) => {
  // Setup: a few notifications from three apps, oldest first
  await notify(hugo, { title: 'Your weekly summary is ready', body: 'You focused 14 hours this week, 3 more than last week.', priority: 'normal', action_url: `${server.url}/healthz?summary`, action_label: 'Read summary' });
  await notify(demoApp, { title: 'Welcome to Oriva', body: 'Notifications from every app you use land here. Dismiss once, dismissed everywhere.', priority: 'low' });
  await notify(workBuddy, { title: 'Session starting in 10 minutes', body: 'Your session with Sarah starts soon.', priority: 'high', action_url: 'workbuddy://session/789', action_label: 'View session' });
  await notify(hugo, { title: 'Payment failed', body: 'We could not renew your Hugo AI plan. Update your card to keep your history.', priority: 'urgent' });

  // Action
  await signIn(one);

  // Assertions
  const titles = await one.page.locator('#feed .title').allTextContents();
  t.same(titles, ['Payment failed', 'Session starting in 10 minutes', 'Your weekly summary is ready', 'Welcome to Oriva'], 'priority first, then newest');
  const apps = await one.page.locator('#feed .app-name').allTextContents();
  t.same(apps, ['Hugo AI', 'Work Buddy', 'Hugo AI', 'Demo App'], 'app branding from the feed');
  t.same(await one.page.locator('#feed .priority').allTextContents(), ['Urgent', 'High', 'Low']);
  t.same(await one.page.locator('#feed time').first().textContent(), 'just now');
  t.equal(await badgeText(one.page), '4');
  t.equal(await one.page.title(), '(4) Notifications · Oriva');
  t.equal(await one.page.locator('#dev-panel').isVisible(), true, 'the dev panel shows with demo credentials');
  await shot(one.page, 'readme');
  if (process.env.ORIVA_UPDATE_DOCS_SCREENSHOT === '1') {
    const docs = fileURLToPath(new URL('../../docs/', import.meta.url));
    mkdirSync(docs, { recursive: true });
    copyFileSync(`${SCREENSHOTS}readme.png`, `${docs}notification-center.png`);
  }
});

t.test('a notification created through the REST API appears in both pages within 1 s', async (t) => {
  await signIn(two);
  await waitBadge(two.page, 4);

  const began = Date.now();
  const id = await notify(workBuddy, { title: 'Sarah shared notes with you', priority: 'normal' });
  await Promise.all([item(one.page, id).waitFor({ timeout: LIVE_WITHIN_MS }), item(two.page, id).waitFor({ timeout: LIVE_WITHIN_MS })]);
  const elapsed = Date.now() - began;
  t.ok(elapsed < LIVE_WITHIN_MS, `visible in both pages ${elapsed} ms after the POST was sent`);
  await Promise.all([waitBadge(one.page, 5, LIVE_WITHIN_MS), waitBadge(two.page, 5, LIVE_WITHIN_MS)]);
  await one.page.waitForFunction(() => document.getElementById('announcer')!.textContent.includes('Sarah shared notes with you'));
  t.match(await one.page.locator('#announcer').textContent(), 'New notification from Work Buddy: Sarah shared notes with you', 'announced to screen readers');

  // dismissing it in page 1 removes it from page 2, and both badges drop
  await one.page.getByRole('button', { name: 'Dismiss: Sarah shared notes with you' }).click();
  await item(two.page, id).waitFor({ state: 'detached', timeout: 3000 });
  await item(one.page, id).waitFor({ state: 'detached', timeout: 3000 });
  await Promise.all([waitBadge(one.page, 4), waitBadge(two.page, 4)]);
  const state = (await feed()).notifications.find((n) => n.id === id);
  t.equal(state, undefined, 'dismissed: gone from the REST feed too');
  await shot(two.page, 'after-dismiss-page2');
});

t.test('a hostile title renders as text and runs nothing', async (t) => {
  const id = await notify(demoApp, { title: HOSTILE, body: '<b>not bold</b><script>alert(2)</script>', priority: 'high' });
  await Promise.all([item(one.page, id).waitFor({ timeout: LIVE_WITHIN_MS }), item(two.page, id).waitFor({ timeout: LIVE_WITHIN_MS })]);
  for (const { page, seen } of [one, two]) {
    t.equal(await item(page, id).locator('.title').textContent(), HOSTILE);
    t.equal(await item(page, id).locator('.body').textContent(), '<b>not bold</b><script>alert(2)</script>');
    t.equal(await page.locator('#feed img, #feed script, #feed b').count(), 0, 'no element was made from the text');
    t.same(seen.dialogs, [], 'no alert or other dialog');
  }
  // after the reload the feed comes from REST rather than the gateway: still text
  await two.page.reload();
  await item(two.page, id).waitFor();
  t.equal(await item(two.page, id).locator('.title').textContent(), HOSTILE);
  t.same(two.seen.dialogs, []);
  await two.page.locator('#connection[data-state="live"]').waitFor({ timeout: 10_000 });
  await shot(one.page, 'hostile-title');
  await one.page.getByRole('button', { name: `Dismiss: ${HOSTILE}` }).click();
  await item(two.page, id).waitFor({ state: 'detached', timeout: 3000 });
});

/** A button inside the feed has focus (not <body>, where focus goes when its element is removed). */
function focusInFeed(page: Page): Promise<boolean> {
  return page.evaluate(() => document.activeElement?.closest('#feed') !== null && document.activeElement?.tagName === 'BUTTON');
}

t.test('read, unread, open (recorded as clicked, then followed) and mark all read', async (t) => {
  const [urgent, session, summary] = (await feed()).notifications;
  t.ok(urgent && session && summary);

  // read in page 1 -> read in page 2
  t.equal(await item(one.page, urgent!.id).locator('.title').textContent(), 'Payment failed');
  await one.page.getByRole('button', { name: 'Mark read: Payment failed' }).click();
  await two.page.locator(`#feed li[data-id="${urgent!.id}"][data-status="read"]`).waitFor({ timeout: 3000 });
  await Promise.all([waitBadge(one.page, 3), waitBadge(two.page, 3)]);
  // unread again from page 2
  await two.page.getByRole('button', { name: 'Mark unread: Payment failed' }).click();
  await one.page.locator(`#feed li[data-id="${urgent!.id}"][data-status="unread"]`).waitFor({ timeout: 3000 });
  await Promise.all([waitBadge(one.page, 4), waitBadge(two.page, 4)]);

  // open: the click is recorded first, then action_url opens in a new tab
  const opened = context.waitForEvent('page');
  await one.page.getByRole('button', { name: 'Read summary: Your weekly summary is ready' }).click();
  const tab = await opened;
  await tab.waitForURL(`${server.url}/healthz?summary`);
  t.equal(tab.url(), `${server.url}/healthz?summary`, 'followed action_url');
  await tab.close();
  t.equal((await feed()).notifications.find((n) => n.id === summary!.id)?.status, 'clicked', 'recorded as clicked');
  await two.page.locator(`#feed li[data-id="${summary!.id}"][data-status="clicked"]`).waitFor({ timeout: 3000 });
  t.equal(await item(two.page, summary!.id).locator('.state').textContent(), 'Opened');
  await Promise.all([waitBadge(one.page, 3), waitBadge(two.page, 3)]);

  // keyboard: dismiss with Enter, focus lands on the next notification's first button. The PATCH's
  // answer is held back so that the gateway's push removes the item first (the order that once lost
  // focus to <body>).
  const welcome = (await feed()).notifications.find((n) => n.status === 'unread' && n.id !== urgent!.id && n.id !== session!.id)!;
  const holdAnswer = async (route: Route) => {
    const response = await route.fetch();
    await new Promise((r) => setTimeout(r, 500));
    await route.fulfill({ response });
  };
  await one.page.route(`**/api/v1/notifications/${welcome.id}`, holdAnswer);
  await one.page.getByRole('button', { name: 'Dismiss: Welcome to Oriva' }).focus();
  await one.page.keyboard.press('Enter');
  await item(one.page, welcome.id).waitFor({ state: 'detached', timeout: 3000 });
  t.equal(await focusInFeed(one.page), true, 'focus stays in the feed');
  await one.page.unrouteAll({ behavior: 'wait' }); // once the held answer has been given
  await Promise.all([waitBadge(one.page, 2), waitBadge(two.page, 2)]);

  // the same when the focused item goes because page 2 dismissed it and the change was pushed in
  await one.page.getByRole('button', { name: 'Mark read: Payment failed' }).focus();
  await two.page.getByRole('button', { name: 'Dismiss: Payment failed' }).click();
  await item(one.page, urgent!.id).waitFor({ state: 'detached', timeout: 3000 });
  t.equal(await focusInFeed(one.page), true, 'focus stays in the feed when a pushed dismissal removes the focused item');
  await Promise.all([waitBadge(one.page, 1), waitBadge(two.page, 1)]);

  // mark all read from page 2
  await two.page.getByRole('button', { name: 'Mark all read' }).click();
  await Promise.all([waitBadge(one.page, 0), waitBadge(two.page, 0)]);
  t.equal((await feed()).unread_count, 0);
  t.equal(await one.page.locator('#feed li[data-status="unread"]').count(), 0);
});

t.test('the dev panel sends a test notification as the demo app', async (t) => {
  await one.page.getByLabel('Title', { exact: true }).fill('Sent from the dev panel');
  await one.page.getByLabel('Priority').selectOption('high');
  await one.page.getByRole('button', { name: 'Send' }).click();
  const li = one.page.locator('#feed li', { hasText: 'Sent from the dev panel' });
  await li.waitFor({ timeout: 3000 });
  t.equal(await li.locator('.app-name').textContent(), 'Demo App');
  await two.page.locator('#feed li', { hasText: 'Sent from the dev panel' }).waitFor({ timeout: 3000 });
  t.equal(await one.page.locator('#dev-status').textContent(), 'Sent as demo-app.');
  await Promise.all([waitBadge(one.page, 1), waitBadge(two.page, 1)]);
});

t.test('usable on a phone-sized viewport', async (t) => {
  const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
  t.teardown(() => phone.close());
  const small = await openPage(phone);
  await signIn(small);
  await small.page.locator('#feed li').first().waitFor();
  const overflow = await small.page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  t.equal(overflow, 0, 'no horizontal scrolling');
  const box = await small.page.getByRole('button', { name: 'Mark all read' }).boundingBox();
  t.ok(box && box.x >= 0 && box.x + box.width <= 390, 'actions fit the screen');
  await small.page.screenshot({ path: `${SCREENSHOTS}phone.png` });
  t.same(small.seen.errors, []);
});

t.test('sign in with a typed token: bad tokens are refused with a reason; a feed longer than a page says so', async (t) => {
  // Setup: 101 notifications for another user (the feed loads the API's maximum page, 100)
  const busy = await userAuth('busy-user');
  const items = (from: number, n: number) =>
    Array.from({ length: n }, (_, i) => ({ external_id: `busy-${from + i}`, user_id: 'busy-user', notification_type: 'test', title: `Busy ${from + i}`, body: 'Body text' }));
  for (const batch of [items(0, 100), items(100, 1)]) {
    const res = await fetch(`${server.url}/api/v1/apps/${hugo.appId}/notifications/batch`, {
      method: 'POST',
      headers: { ...hugo.auth, 'content-type': 'application/json' },
      body: JSON.stringify({ notifications: batch }),
    });
    t.equal(res.status, 200);
    t.equal(((await res.json()) as { created: number }).created, batch.length, 'batch created');
  }
  const forged = await signUserToken('not-the-server-secret-not-the-server-secret', 'busy-user');
  const page = (await openPage(context)).page;
  await page.goto(`${server.url}/`);
  const token = page.getByLabel('User token');
  const signInButton = page.getByRole('button', { name: 'Sign in' });

  await token.fill('not a token');
  await signInButton.click();
  await page.getByRole('alert').filter({ hasText: 'That is not a user token' }).waitFor();
  await token.fill(forged);
  await signInButton.click();
  await page.getByRole('alert').filter({ hasText: 'The server rejected this token' }).waitFor();
  t.equal(await page.locator('#inbox').isVisible(), false, 'still signed out');

  await token.fill(busy.token);
  await signInButton.click();
  await page.locator('#connection[data-state="live"]').waitFor({ timeout: 10_000 });
  t.equal(await page.locator('#who').textContent(), 'busy-user');
  t.equal(await page.locator('#feed li').count(), 100);
  t.equal(await page.locator('#more').textContent(), 'Showing the first 100 of 101 notifications, most important first.');
  t.equal(await badgeText(page), '99+');

  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.locator('#sign-in').waitFor();
  t.equal(await token.inputValue(), user.token, 'signed out: the demo token is prefilled again');
  t.equal(await page.locator('#feed li').count(), 0);
  await page.close();
});

t.test('WebSockets blocked: both pages long-poll through the SDK and stay in sync within 2 s; back to the WebSocket when allowed', async (t) => {
  proxy.blockUpgrades(true);
  // the open sockets were upgraded before the block: reload (the token stays in sessionStorage)
  await Promise.all([one.page.reload(), two.page.reload()]);
  const began = Date.now();
  await Promise.all([
    one.page.locator('#connection[data-state="polling"]').waitFor({ timeout: 5000 }),
    two.page.locator('#connection[data-state="polling"]').waitFor({ timeout: 5000 }),
  ]);
  t.ok(Date.now() - began < 5000, `both pages long-polling ${Date.now() - began} ms after loading`);
  t.equal(await one.page.locator('#connection .connection-text').textContent(), 'Polling');
  const unread = (await feed()).unread_count;

  const sent = Date.now();
  const id = await notify(workBuddy, { title: 'Arrived by long-poll', priority: 'high' });
  await Promise.all([item(one.page, id).waitFor({ timeout: 2000 }), item(two.page, id).waitFor({ timeout: 2000 })]);
  t.ok(Date.now() - sent < 2000, `in both pages ${Date.now() - sent} ms after the POST`);
  await Promise.all([waitBadge(one.page, unread + 1, 2000), waitBadge(two.page, unread + 1, 2000)]);

  const acted = Date.now();
  await one.page.getByRole('button', { name: 'Mark read: Arrived by long-poll' }).click();
  await two.page.locator(`#feed li[data-id="${id}"][data-status="read"]`).waitFor({ timeout: 2000 });
  await waitBadge(two.page, unread, 2000);
  t.ok(Date.now() - acted < 2000, `read in page 1 → read in page 2 after ${Date.now() - acted} ms`);
  await shot(one.page, 'long-polling');

  proxy.blockUpgrades(false);
  await Promise.all([
    one.page.locator('#connection[data-state="live"]').waitFor({ timeout: 15_000 }),
    two.page.locator('#connection[data-state="live"]').waitFor({ timeout: 15_000 }),
  ]);
  const back = await notify(hugo, { title: 'Back on the WebSocket', priority: 'low' });
  await Promise.all([item(one.page, back).waitFor({ timeout: LIVE_WITHIN_MS }), item(two.page, back).waitFor({ timeout: LIVE_WITHIN_MS })]);
  t.ok(one.sockets.at(-1)!.frames.some((f) => f.includes(back)), 'delivered over the WebSocket again');
  for (const { seen } of [one, two]) t.same(seen.errors, [], 'no uncaught errors or CSP violations');
});

t.test('the gateway stops and restarts: the pages resume from their last seq', async (t) => {
  const socketsBefore = one.sockets.length;
  await gateway.close();
  await Promise.all([
    one.page.locator('#connection:not([data-state="live"])').waitFor({ timeout: 5000 }),
    two.page.locator('#connection:not([data-state="live"])').waitFor({ timeout: 5000 }),
  ]);
  const id = await notify(hugo, { title: 'Created while the gateway was down', priority: 'high' });
  gateway = await startOurGateway();

  await Promise.all([item(one.page, id).waitFor({ timeout: 15_000 }), item(two.page, id).waitFor({ timeout: 15_000 })]);
  await Promise.all([
    one.page.locator('#connection[data-state="live"]').waitFor({ timeout: 15_000 }),
    two.page.locator('#connection[data-state="live"]').waitFor({ timeout: 15_000 }),
  ]);
  // the event itself came over the resumed connection (not only through a REST refresh)
  const resumed = one.sockets.slice(socketsBefore).at(-1)!;
  t.match(resumed.url, /[?&]after=\d+/, 'reconnected with ?after=<last seq>');
  const deadline = Date.now() + 5000;
  while (!resumed.frames.some((f) => f.includes(id)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  t.ok(resumed.frames.some((f) => f.includes(id) && f.includes('"created"')), 'the missed notification.created event was replayed');
  await Promise.all([waitBadge(one.page, 3), waitBadge(two.page, 3)]);
  await shot(one.page, 'after-gateway-restart');
});

t.test('with the gateway gone, the page refetches the REST feed', async (t) => {
  await gateway.close();
  await one.page.locator('#connection[data-state="reconnecting"]').waitFor({ timeout: 10_000 });
  t.equal(await one.page.locator('#connection .connection-text').textContent(), 'Reconnecting…');
  const id = await notify(workBuddy, { title: 'Found by refetching', priority: 'low' });
  await item(one.page, id).waitFor({ timeout: 10_000 });
  await waitBadge(one.page, 4, 10_000);
  await shot(one.page, 'polling');
  for (const { seen } of [one, two]) {
    t.same(seen.dialogs, []);
    t.same(seen.errors, [], 'no uncaught errors or CSP violations');
  }
});
