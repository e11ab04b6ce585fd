// The notification center's feed model (server/public/feed.js, no DOM): who a live notification is
// from is the frame's server-set app_id and the name the REST feed gave for it, never what
// event_data claims (rows written by SQL or before apps were refused the notification category).
import t from 'tap';

const feedModule = '../../../server/public/feed.js';
const { Feed } = (await import(feedModule)) as { Feed: new () => any };

const restNotification = (overrides: Record<string, unknown> = {}) => ({
  id: 'n-real', app_id: 'work-buddy', app_name: 'Work Buddy', app_icon: 'https://workbuddy.example/icon.png', title: 'Hello', body: 'Real',
  status: 'unread', priority: 'normal', created_at: '2030-01-01T00:00:00.000Z', ...overrides,
});

const created = (appId: string, carried: Record<string, unknown>) => ({
  type: 'event', seq: 7, event_category: 'notification', event_type: 'created', entity_type: 'notification', entity_id: 'n-spoof',
  user_id: 'alice', app_id: appId, event_data: { source: appId, notification: carried }, timestamp: '2030-01-01T00:00:01.000Z',
});

const spoofed = {
  id: 'n-spoof', app_id: 'work-buddy', app_name: 'Work Buddy', app_icon: 'https://evil.example/icon.png', title: 'URGENT: verify your account',
  body: 'Click', priority: 'urgent', status: 'unread', created_at: '2030-01-01T00:00:01.000Z', action_url: 'https://evil.example/login',
};

t.test('a notification claiming another app is shown as the app the server says sent it', async (t) => {
  const feed = new Feed();
  feed.beginSync();
  feed.finishSync({ notifications: [restNotification(), restNotification({ id: 'n-evil', app_id: 'evil-app', app_name: 'Evil App', app_icon: null })], unread_count: 2 });
  const result = feed.applyMessage(created('evil-app', spoofed));
  t.match(result, { changed: true, resync: false });
  t.match(feed.items.get('n-spoof'), { app_id: 'evil-app', app_name: 'Evil App', app_icon: null, title: 'URGENT: verify your account' });
});

t.test('an app the REST feed has not named yet: shown by its server-set id, and a resync fetches the name', async (t) => {
  const feed = new Feed();
  feed.beginSync();
  feed.finishSync({ notifications: [restNotification()], unread_count: 1 });
  const result = feed.applyMessage(created('evil-app', spoofed));
  t.match(result, { changed: true, resync: true });
  t.match(feed.items.get('n-spoof'), { app_id: 'evil-app', app_name: 'evil-app', app_icon: null });
});

t.test('a broadcast arrives like a created notification, and leaves when retracted or expired', async (t) => {
  const feed = new Feed();
  feed.beginSync();
  feed.finishSync({ notifications: [restNotification()], unread_count: 1 });
  const broadcast = (type: string, id: string, data: Record<string, unknown>) => ({
    type: 'event', seq: 9, event_category: 'broadcast', event_type: type, entity_type: 'broadcast', entity_id: id,
    user_id: null, app_id: 'work-buddy', event_data: data, timestamp: '2030-01-01T00:00:02.000Z',
  });
  const carried = { id: 'b-1', title: 'Version 2', body: 'What is new', priority: 'normal', status: 'unread', user_id: null, created_at: '2030-01-01T00:00:02.000Z' };
  t.match(feed.applyMessage(broadcast('sent', 'b-1', { notification: carried, broadcast: { id: 'b-1' } })), { changed: true, resync: false });
  t.match(feed.items.get('b-1'), { title: 'Version 2', app_name: 'Work Buddy', status: 'unread' });
  t.match(feed.applyMessage(broadcast('sent', 'b-2', { notification: { ...carried, id: 'b-2' } })), { changed: true });
  t.match(feed.applyMessage(broadcast('retracted', 'b-1', { notification_id: 'b-1' })), { changed: true });
  t.notOk(feed.items.has('b-1'), 'retracted: gone');
  t.match(feed.applyMessage(broadcast('expired', 'b-2', { notification_id: 'b-2' })), { changed: true });
  t.notOk(feed.items.has('b-2'), 'expired: gone');
  t.match(feed.applyMessage(broadcast('unknown', 'b-3', {})), { changed: false, resync: false }, 'another broadcast event changes nothing');
});
