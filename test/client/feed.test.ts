// The client's feed store (client/src/feed.ts, issue 18 item 2), no network: REST pages and live
// events applied in any interleaving. Who a live notification is from is the frame's server-set
// app_id and the name the REST feed gave for it, never what event_data claims; a broadcast arrives
// and leaves like a notification; events that arrive while a load is in flight are applied again on
// top of its answer; a gap or an unnamed app refetches; getSnapshot is the same object until
// something changes (useSyncExternalStore's contract). Against the real stack, the page's browser
// test (test/page/notification-center.test.ts) drives the same store through the live feed.
import t from 'tap';
import { FeedStore, type FeedPage, type LiveEvent } from '../../client/src/index.js';

const restNotification = (overrides: Record<string, unknown> = {}) => ({
  id: 'n-real', app_id: 'work-buddy', app_name: 'Work Buddy', app_icon: 'https://workbuddy.example/icon.png', title: 'Hello', body: 'Real',
  status: 'unread', priority: 'normal', created_at: '2030-01-01T00:00:00.000Z', ...overrides,
});
const page = (notifications: Record<string, unknown>[], unread = notifications.length): FeedPage =>
  ({ success: true, notifications, unread_count: unread, pagination: { total: notifications.length } }) as unknown as FeedPage;

const event = (category: string, type: string, id: string, appId: string, data: Record<string, unknown>, seq = 7): LiveEvent => ({
  type: 'event', seq, event_id: `e-${seq}`, event_category: category, event_type: type, entity_type: category, entity_id: id,
  user_id: 'alice', app_id: appId, event_data: data, timestamp: '2030-01-01T00:00:01.000Z',
});
const spoofed = {
  id: 'n-spoof', app_id: 'work-buddy', app_name: 'Work Buddy', app_icon: 'https://evil.example/icon.png', title: 'URGENT: verify your account',
  body: 'Click', priority: 'urgent', status: 'unread', created_at: '2030-01-01T00:00:01.000Z', action_url: 'https://evil.example/login',
};

/** A store whose loads answer the given pages in turn, counting them. */
function storeOf(...pages: FeedPage[]) {
  let loads = 0;
  const store = new FeedStore({ load: () => Promise.resolve(pages[Math.min(loads++, pages.length - 1)]!) });
  return { store, loads: () => loads };
}

t.test('a notification claiming another app is shown as the app the server says sent it', async (t) => {
  const { store, loads } = storeOf(page([restNotification(), restNotification({ id: 'n-evil', app_id: 'evil-app', app_name: 'Evil App', app_icon: null })]));
  await store.refresh();
  const change = store.applyEvent(event('notification', 'created', 'n-spoof', 'evil-app', { source: 'evil-app', notification: spoofed }));
  t.match(change, { changed: true, added: { id: 'n-spoof' } });
  t.match(store.get('n-spoof'), { app_id: 'evil-app', app_name: 'Evil App', app_icon: null, title: 'URGENT: verify your account' });
  t.equal(loads(), 1, 'no refetch: the app is named');
  t.same(store.getSnapshot().notifications.map((n) => n.id), ['n-spoof', 'n-real', 'n-evil'], 'urgent first, then newest, then by id');
});

t.test('an app the REST feed has not named yet: shown by its server-set id, and a refetch names it', async (t) => {
  const { store, loads } = storeOf(page([restNotification()]), page([restNotification(), { ...spoofed, app_id: 'evil-app', app_name: 'Evil App', app_icon: null }]));
  await store.refresh();
  store.applyEvent(event('notification', 'created', 'n-spoof', 'evil-app', { notification: spoofed }));
  t.match(store.get('n-spoof'), { app_id: 'evil-app', app_name: 'evil-app', app_icon: null });
  await new Promise((r) => setTimeout(r, 0)); // the refetch the event started
  t.equal(loads(), 2);
  t.match(store.get('n-spoof'), { app_name: 'Evil App' });
});

t.test('a broadcast arrives like a created notification, and leaves when retracted or expired', async (t) => {
  const { store } = storeOf(page([restNotification()]));
  await store.refresh();
  const carried = { id: 'b-1', title: 'Version 2', body: 'What is new', priority: 'normal', status: 'unread', user_id: null, created_at: '2030-01-01T00:00:02.000Z' };
  t.match(store.applyEvent(event('broadcast', 'sent', 'b-1', 'work-buddy', { notification: carried, broadcast: { id: 'b-1' } })), { changed: true });
  t.match(store.get('b-1'), { title: 'Version 2', app_name: 'Work Buddy', status: 'unread' });
  store.applyEvent(event('broadcast', 'sent', 'b-2', 'work-buddy', { notification: { ...carried, id: 'b-2' } }));
  t.match(store.applyEvent(event('broadcast', 'retracted', 'b-1', 'work-buddy', { notification_id: 'b-1' })), { changed: true });
  t.notOk(store.get('b-1'), 'retracted: gone');
  store.applyEvent(event('broadcast', 'expired', 'b-2', 'work-buddy', { notification_id: 'b-2' }));
  t.notOk(store.get('b-2'), 'expired: gone');
  t.match(store.applyEvent(event('broadcast', 'unknown', 'b-3', 'work-buddy', {})), { changed: false }, 'another broadcast event changes nothing');
});

t.test('state events move notifications; dismissed and expired leave the feed', async (t) => {
  const { store } = storeOf(page([restNotification(), restNotification({ id: 'n-2', status: 'read' })], 1));
  await store.refresh();
  store.applyEvent(event('notification', 'read', 'n-real', 'work-buddy', {}));
  t.equal(store.get('n-real')?.status, 'read');
  store.applyEvent(event('notification', 'dismissed', 'n-2', 'work-buddy', {}));
  t.notOk(store.get('n-2'));
  t.equal(store.getSnapshot().total, 1);
  store.applyCounts(0);
  t.equal(store.getSnapshot().unread, 0, 'the unread count is the gateway’s');
  store.setStatus('n-real', 'unread');
  t.equal(store.getSnapshot().unread, 1, 'and the user’s own actions');
  store.markAllRead();
  t.match(store.getSnapshot(), { unread: 0, notifications: [{ id: 'n-real', status: 'read' }] });
});

t.test('events during a load are applied again on top of its answer', async (t) => {
  let answer!: (p: FeedPage) => void;
  let loads = 0;
  const store = new FeedStore({ load: () => (loads++ === 0 ? Promise.resolve(page([restNotification()])) : new Promise<FeedPage>((resolve) => (answer = resolve))) });
  await store.refresh();
  const loading = store.refresh();
  const fresh = { ...restNotification({ id: 'n-new', title: 'Fresh' }) };
  store.applyEvent(event('notification', 'created', 'n-new', 'work-buddy', { notification: fresh }, 8));
  store.applyCounts(2);
  answer(page([restNotification()], 1)); // read before n-new was committed
  await loading;
  t.same(store.getSnapshot().notifications.map((n) => n.id).sort(), ['n-new', 'n-real']);
  t.equal(store.getSnapshot().unread, 2);
  t.ok(store.getSnapshot().loaded);
  t.equal(loads, 2);
});

t.test('getSnapshot is stable until a change; listeners hear each change and can leave', async (t) => {
  const { store } = storeOf(page([restNotification()]));
  let heard = 0;
  const leave = store.subscribe(() => heard++);
  const before = store.getSnapshot();
  t.equal(store.getSnapshot(), before, 'same object');
  await store.refresh();
  t.not(store.getSnapshot(), before);
  t.equal(heard, 1);
  const after = store.getSnapshot();
  store.applyEvent(event('notification', 'read', 'unknown-id', 'work-buddy', {}));
  store.applyCounts(1);
  t.equal(store.getSnapshot(), after, 'an event that changes nothing keeps the snapshot');
  t.equal(heard, 1);
  leave();
  store.applyCounts(5);
  t.equal(heard, 1, 'unsubscribed');
});

t.test('a failed load keeps the feed and reports the error', async (t) => {
  const errors: unknown[] = [];
  let fail = false;
  const store = new FeedStore({ load: () => (fail ? Promise.reject(new Error('down')) : Promise.resolve(page([restNotification()]))), onError: (e) => errors.push(e) });
  await store.refresh();
  fail = true;
  await t.rejects(store.refresh(), { message: 'down' });
  t.equal(store.getSnapshot().notifications.length, 1, 'what was loaded stays');
  store.applyEvent(event('notification', 'created', 'n-x', 'work-buddy', { unrelated: true }));
  await new Promise((r) => setTimeout(r, 10));
  t.match(errors, [{ message: 'down' }], 'a refetch the store started itself reports through onError');
});
