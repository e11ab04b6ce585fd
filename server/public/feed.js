// The feed as the page holds it: notifications by id, the unread count, and how REST responses and
// gateway events change them. No DOM here.

const RANK = { urgent: 3, high: 2, normal: 1, low: 0 };
// The states the feed hides, and the notification.<type> events that move a notification to a state:
// mirrors of lib/notification-states.ts (test/db/definitions.test.ts checks them).
export const HIDDEN_STATUSES = new Set(['dismissed', 'expired']);
export const STATUS_OF_EVENT = { read: 'read', unread: 'unread', clicked: 'clicked', dismissed: 'dismissed', expired: 'expired' };
/** The broadcast.<type> events, as the notification event they amount to in one user's feed. */
const BROADCAST_EVENTS = { sent: 'created', retracted: 'deleted', expired: 'deleted' };

/** The feed's order: priority first, then newest. */
export function compareNotifications(a, b) {
  return (RANK[b.priority] ?? 1) - (RANK[a.priority] ?? 1)
    || Date.parse(b.created_at) - Date.parse(a.created_at)
    || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);
}

function isNotification(value) {
  return value && typeof value === 'object' && typeof value.id === 'string' && typeof value.title === 'string'
    && typeof value.body === 'string' && typeof value.created_at === 'string';
}

export class Feed {
  constructor() {
    this.items = new Map();
    this.unread = 0;
    this.total = 0;
    this.appNames = new Map(); // app_id -> { name, icon } learned from the REST feed
    this.syncing = 0;
    this.pending = []; // gateway messages that arrived while a REST sync was in flight
  }

  sorted() {
    return [...this.items.values()].sort(compareNotifications);
  }

  /** Start a REST refresh; messages applied until finishSync are replayed on top of its answer. */
  beginSync() {
    this.syncing += 1;
  }

  /** Replace the feed with a REST answer and re-apply what arrived meanwhile. Returns the new items' ids. */
  finishSync(response) {
    this.syncing = Math.max(0, this.syncing - 1);
    const before = new Set(this.items.keys());
    this.items.clear();
    for (const n of response.notifications ?? []) {
      if (!isNotification(n) || HIDDEN_STATUSES.has(n.status)) continue;
      this.items.set(n.id, n);
      if (n.app_name) this.appNames.set(n.app_id, { name: n.app_name, icon: n.app_icon ?? null });
    }
    if (typeof response.unread_count === 'number') this.unread = response.unread_count;
    this.total = response.pagination?.total ?? this.items.size;
    const replay = this.syncing === 0 ? this.pending.splice(0) : [...this.pending];
    for (const message of replay) this.applyMessage(message, { replay: true });
    return [...this.items.keys()].filter((id) => !before.has(id));
  }

  failSync() {
    this.syncing = Math.max(0, this.syncing - 1);
    if (this.syncing === 0) this.pending.length = 0;
  }

  /** A change the user made on this page (already accepted by the server, or about to be). */
  setStatus(id, status) {
    const n = this.items.get(id);
    if (!n || n.status === status) return;
    if (n.status === 'unread') this.unread = Math.max(0, this.unread - 1);
    if (status === 'unread') this.unread += 1;
    if (HIDDEN_STATUSES.has(status)) this.remove(id);
    else this.items.set(id, { ...n, status });
  }

  remove(id) {
    if (this.items.delete(id)) this.total = Math.max(0, this.total - 1);
  }

  markAllRead() {
    for (const [id, n] of this.items) if (n.status === 'unread') this.items.set(id, { ...n, status: 'read' });
    this.unread = 0;
  }

  /**
   * Apply one gateway message. Events change the items only: the unread count comes from `counts`
   * messages (the gateway sends one on connect and after every change of the user's state, and it
   * may arrive before a replayed event), from the REST feed, and from this page's own actions.
   * Returns what the page should do:
   * { changed, added: notification|null, resync: boolean }
   */
  applyMessage(message, { replay = false } = {}) {
    if (this.syncing > 0 && !replay) this.pending.push(message);
    if (message.type === 'counts' && typeof message.unread === 'number') {
      this.unread = message.unread;
      return { changed: true, added: null, resync: false };
    }
    if (message.type !== 'event') return { changed: false, added: null, resync: false };
    // A broadcast (one event for its whole audience) arrives, or leaves every feed, like a notification.
    const eventType = message.event_category === 'notification' ? message.event_type
      : message.event_category === 'broadcast' ? BROADCAST_EVENTS[message.event_type] : undefined;
    if (!eventType) return { changed: false, added: null, resync: false };
    const id = message.entity_id;
    const data = message.event_data && typeof message.event_data === 'object' ? message.event_data : {};
    if (eventType === 'created') {
      if (this.items.has(id)) return { changed: false, added: null, resync: false };
      const carried = isNotification(data.notification) ? data.notification : isNotification(data) ? data : null;
      if (!carried) return { changed: false, added: null, resync: true };
      // Who sent it is the frame's app_id, set by the server; the name and icon are the ones the REST
      // feed gave for that app. An app id, name or icon inside event_data is never trusted (a row
      // written by SQL, or before apps were refused the notification category, could claim anything).
      const app = this.appNames.get(message.app_id);
      const n = {
        status: 'unread',
        ...carried,
        id,
        app_id: message.app_id,
        app_name: app?.name ?? message.app_id,
        app_icon: app?.icon ?? null,
      };
      if (HIDDEN_STATUSES.has(n.status)) return { changed: false, added: null, resync: false };
      if (n.expires_at && Date.parse(n.expires_at) <= Date.now()) return { changed: false, added: null, resync: false };
      this.items.set(id, n);
      this.total += 1;
      return { changed: true, added: replay ? null : n, resync: !app };
    }
    if (eventType === 'deleted') {
      const n = this.items.get(id);
      if (!n) return { changed: false, added: null, resync: false };
      this.remove(id);
      return { changed: true, added: null, resync: false };
    }
    const status = STATUS_OF_EVENT[eventType];
    if (!status) return { changed: false, added: null, resync: false };
    const n = this.items.get(id);
    if (!n) return { changed: false, added: null, resync: status === 'unread' };
    if (n.status === status) return { changed: false, added: null, resync: false };
    if (HIDDEN_STATUSES.has(status)) this.remove(id);
    else this.items.set(id, { ...n, status });
    return { changed: true, added: null, resync: false };
  }
}
