// The feed store: a user's notifications as a view holds them — loaded over REST, kept current by
// the live feed's events and counts, refetched after a gap — with subscribe/getSnapshot, so React
// reads it with useSyncExternalStore(store.subscribe, store.getSnapshot) and anything else can
// listen the same way. No DOM, no framework.
//
// The rules: the order is priority first, then newest; dismissed and expired notifications leave
// the feed; a broadcast arrives, and leaves, like a notification; who sent a notification is the
// frame's app_id (set by the server) with the name and icon the REST feed gave for that app —
// never an app id, name or icon inside event_data; the unread count comes from the gateway's
// `counts` frames, the REST feed and the user's own actions.
import type { LiveEvent, Subscription, SubscribeOptions } from './live.js';
import { subscribe as subscribeLive } from './live.js';
import type { CallResult } from './rest.js';

export type FeedPage = CallResult<'listUserNotifications'>;
export type FeedNotification = FeedPage['notifications'][number];
/** Every state a notification can be in; the feed shows all but dismissed and expired. */
export type NotificationStatus = FeedNotification['status'] | 'expired';

export interface FeedSnapshot {
  /** In the feed's order: priority first, then newest. */
  readonly notifications: readonly FeedNotification[];
  readonly unread: number;
  /** How many the user has in all (the REST page may hold fewer). */
  readonly total: number;
  /** False until the first REST load answered. */
  readonly loaded: boolean;
}

/** What one event did: a notification that just arrived (to announce), and whether it changed anything. */
export interface FeedChange {
  changed: boolean;
  added: FeedNotification | null;
}

export interface FeedStoreOptions {
  /** Load the feed over REST, e.g. () => oriva.listUserNotifications({ path: { userId } , query: { limit: 100 } }). */
  load: () => Promise<FeedPage>;
  /** A refetch the store started itself (after a gap, or for an app it has no name for) failed. */
  onError?: (error: unknown) => void;
}

/** The states the feed hides, and the notification.<type> events that move a notification to a state. */
export const HIDDEN_STATUSES: ReadonlySet<string> = new Set(['dismissed', 'expired']);
export const STATUS_OF_EVENT: Readonly<Record<string, NotificationStatus>> = { read: 'read', unread: 'unread', clicked: 'clicked', dismissed: 'dismissed', expired: 'expired' };
/** The broadcast.<type> events, as the notification event they amount to in one user's feed. */
const BROADCAST_EVENTS: Readonly<Record<string, string>> = { sent: 'created', retracted: 'deleted', expired: 'deleted' };
const RANK: Readonly<Record<string, number>> = { urgent: 3, high: 2, normal: 1, low: 0 };

/** The feed's order: priority first, then newest. */
export function compareNotifications(a: FeedNotification, b: FeedNotification): number {
  return (RANK[b.priority] ?? 1) - (RANK[a.priority] ?? 1)
    || Date.parse(b.created_at) - Date.parse(a.created_at)
    || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);
}

type Carried = Partial<FeedNotification> & { id: string; title: string; body: string; created_at: string };
function isCarried(value: unknown): value is Carried {
  const v = value as Record<string, unknown> | null;
  return !!v && typeof v === 'object' && typeof v.id === 'string' && typeof v.title === 'string'
    && typeof v.body === 'string' && typeof v.created_at === 'string';
}

const NO_CHANGE: FeedChange = Object.freeze({ changed: false, added: null });

export class FeedStore {
  private readonly options: FeedStoreOptions;
  private readonly items = new Map<string, FeedNotification>();
  private readonly appNames = new Map<string, { name: string; icon: string | null }>();
  private readonly listeners = new Set<() => void>();
  private unread = 0;
  private total = 0;
  private loaded = false;
  private snapshot: FeedSnapshot = { notifications: [], unread: 0, total: 0, loaded: false };
  /** Events and counts that arrived while a load was in flight: applied again on top of its answer. */
  private pending: ({ kind: 'event'; event: LiveEvent } | { kind: 'counts'; unread: number })[] = [];
  private inflight: Promise<void> | null = null;
  private again = false;

  constructor(options: FeedStoreOptions) {
    this.options = options;
  }

  /** React: useSyncExternalStore(store.subscribe, store.getSnapshot). Returns the unsubscribe. */
  readonly subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  /** The same object until something changes. */
  readonly getSnapshot = (): FeedSnapshot => this.snapshot;

  get(id: string): FeedNotification | undefined {
    return this.items.get(id);
  }

  /** Load the feed over REST: one load at a time; a call during one runs it once more afterwards. */
  refresh(): Promise<void> {
    if (this.inflight) {
      this.again = true;
      return this.inflight;
    }
    this.inflight = (async () => {
      try {
        do {
          this.again = false;
          this.pending = [];
          const page = await this.options.load().catch((err: unknown) => {
            this.pending = [];
            throw err;
          });
          this.replace(page);
        } while (this.again);
      } finally {
        this.inflight = null;
      }
    })();
    return this.inflight;
  }

  /** One event from the live feed (subscribe's onEvent). */
  applyEvent(event: LiveEvent): FeedChange {
    if (this.inflight) this.pending.push({ kind: 'event', event });
    const { change, refetch } = this.apply(event);
    if (change.changed) this.emit();
    if (refetch) this.refreshQuietly();
    return change;
  }

  /** The unread count from the live feed (subscribe's onCounts). */
  applyCounts(unread: number): void {
    if (this.inflight) this.pending.push({ kind: 'counts', unread });
    if (this.unread === unread) return;
    this.unread = unread;
    this.emit();
  }

  /** A change the user made here, once the server accepted it. */
  setStatus(id: string, status: NotificationStatus): void {
    const n = this.items.get(id);
    if (!n || n.status === status) return;
    if (n.status === 'unread') this.unread = Math.max(0, this.unread - 1);
    if (status === 'unread') this.unread += 1;
    if (HIDDEN_STATUSES.has(status)) this.remove(id);
    else this.items.set(id, { ...n, status: status as FeedNotification['status'] });
    this.emit();
  }

  markAllRead(): void {
    for (const [id, n] of this.items) if (n.status === 'unread') this.items.set(id, { ...n, status: 'read' });
    this.unread = 0;
    this.emit();
  }

  /**
   * Keep the store live: subscribe to the gateway (see ./live.js), apply its events and counts, and
   * load over REST when it first connects without a resume point and after every gap. The options'
   * own onEvent/onCounts/onGap/onStatus are called too, after the store applied the frame.
   */
  connect(options: Omit<SubscribeOptions, 'onEvent'> & { onEvent?: (event: LiveEvent, change: FeedChange) => void }): Subscription {
    let started = options.after !== undefined && options.after !== null;
    return subscribeLive({
      ...options,
      onEvent: (event) => {
        const change = this.applyEvent(event); // (not inside `onEvent?.(…)`: its arguments are skipped without one)
        options.onEvent?.(event, change);
      },
      onCounts: (unread) => {
        this.applyCounts(unread);
        options.onCounts?.(unread);
      },
      onGap: (gap) => {
        this.refreshQuietly();
        options.onGap?.(gap);
      },
      onStatus: (status) => {
        // from now on the live feed carries every change: the REST load is the starting point
        if (!started && (status === 'live' || status === 'polling')) {
          started = true;
          this.refreshQuietly();
        }
        options.onStatus?.(status);
      },
    });
  }

  private refreshQuietly(): void {
    this.refresh().catch((err: unknown) => this.options.onError?.(err));
  }

  private replace(page: FeedPage): void {
    this.items.clear();
    for (const n of page.notifications) {
      if (HIDDEN_STATUSES.has(n.status)) continue;
      this.items.set(n.id, n);
      this.appNames.set(n.app_id, { name: n.app_name, icon: n.app_icon ?? null });
    }
    this.unread = page.unread_count;
    this.total = page.pagination.total;
    this.loaded = true;
    for (const item of this.pending) {
      if (item.kind === 'counts') this.unread = item.unread;
      else this.apply(item.event);
    }
    this.pending = [];
    this.emit();
  }

  private remove(id: string): void {
    if (this.items.delete(id)) this.total = Math.max(0, this.total - 1);
  }

  private emit(): void {
    this.snapshot = { notifications: [...this.items.values()].sort(compareNotifications), unread: this.unread, total: this.total, loaded: this.loaded };
    for (const listener of [...this.listeners]) listener();
  }

  /** Apply one event to the items; `refetch` when the REST feed is needed to show it right. */
  private apply(event: LiveEvent): { change: FeedChange; refetch: boolean } {
    const none = { change: NO_CHANGE, refetch: false };
    const type = event.event_category === 'notification' ? event.event_type
      : event.event_category === 'broadcast' ? BROADCAST_EVENTS[event.event_type] : undefined;
    if (!type) return none;
    const id = event.entity_id;
    const data = event.event_data;
    if (type === 'created') {
      if (this.items.has(id)) return none;
      const carried = isCarried(data.notification) ? data.notification : isCarried(data) ? data : null;
      if (!carried) return { change: NO_CHANGE, refetch: true };
      const app = this.appNames.get(event.app_id);
      const n = {
        status: 'unread',
        ...carried,
        id,
        app_id: event.app_id,
        app_name: app?.name ?? event.app_id,
        app_icon: app?.icon ?? null,
      } as FeedNotification;
      if (HIDDEN_STATUSES.has(n.status)) return none;
      if (n.expires_at && Date.parse(n.expires_at) <= Date.now()) return none;
      this.items.set(id, n);
      this.total += 1;
      return { change: { changed: true, added: n }, refetch: !app };
    }
    if (type === 'deleted') {
      if (!this.items.has(id)) return none;
      this.remove(id);
      return { change: { changed: true, added: null }, refetch: false };
    }
    const status = STATUS_OF_EVENT[type];
    if (!status) return none;
    const n = this.items.get(id);
    if (!n) return { change: NO_CHANGE, refetch: status === 'unread' };
    if (n.status === status) return none;
    if (HIDDEN_STATUSES.has(status)) this.remove(id);
    else this.items.set(id, { ...n, status: status as FeedNotification['status'] });
    return { change: { changed: true, added: null }, refetch: false };
  }
}
