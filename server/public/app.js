// The notification center: sign in, load the feed, keep it live, act on notifications — through the
// client SDK (client/, served at /assets/client/): typed REST calls, the feed store, and the live
// feed that falls back to long-polling when WebSockets are blocked.
import { createClient, FeedStore, OrivaApiError } from '/assets/client/index.js';
import { AppsView } from './apps.js';
import { SettingsView } from './settings.js';
import { FeedView, safeActionUrl } from './view.js';

const TOKEN_KEY = 'oriva.notifications.token';
/** While the gateway cannot be reached at all, the feed is refetched over REST this often. */
const REFETCH_MS = 5000;
const CONNECTION_TEXT = {
  idle: ['Not connected', 'Not connected to the live gateway'],
  connecting: ['Connecting…', 'Connecting to the live gateway'],
  live: ['Live', 'Connected: new notifications appear instantly'],
  polling: ['Polling', 'WebSockets are blocked on this network: new notifications arrive over long-polling'],
  reconnecting: ['Reconnecting…', 'The live gateway is unreachable: refreshing every few seconds while reconnecting'],
};

const $ = (id) => document.getElementById(id);
const ui = {
  signIn: $('sign-in'),
  signInForm: $('sign-in-form'),
  tokenInput: $('token-input'),
  signInError: $('sign-in-error'),
  inbox: $('inbox'),
  feed: $('feed'),
  empty: $('empty'),
  more: $('more'),
  feedError: $('feed-error'),
  badge: $('unread-badge'),
  markAllRead: $('mark-all-read'),
  connection: $('connection'),
  who: $('who'),
  signOut: $('sign-out'),
  devPanel: $('dev-panel'),
  devForm: $('dev-form'),
  devStatus: $('dev-status'),
  devAppId: $('dev-app-id'),
  devOutbox: $('dev-outbox'),
  appsPanel: $('apps-panel'),
  apps: $('apps'),
  appsEmpty: $('apps-empty'),
  appsError: $('apps-error'),
  uninstallDialog: $('uninstall-dialog'),
  uninstallName: $('uninstall-name'),
  settingsOpen: $('settings-open'),
  settings: {
    dialog: $('settings-dialog'),
    form: $('settings-form'),
    switches: $('settings-switches'),
    apps: $('settings-apps'),
    appsEmpty: $('settings-apps-empty'),
    quietEnabled: $('quiet-enabled'),
    quietStart: $('quiet-start'),
    quietEnd: $('quiet-end'),
    zone: $('quiet-zone'),
    email: $('email-address'),
    notice: $('settings-notice'),
    error: $('settings-error'),
    status: $('settings-status'),
    close: $('settings-close'),
  },
  announcer: $('announcer'),
};

const page = { config: null, dev: null, session: null };
const settings = new SettingsView(ui.settings);

function announce(text) {
  // re-setting the same text is not announced again; clear first
  ui.announcer.textContent = '';
  requestAnimationFrame(() => {
    ui.announcer.textContent = text;
  });
}

function showConnection(state) {
  const [text, title] = CONNECTION_TEXT[state] ?? CONNECTION_TEXT.idle;
  ui.connection.dataset.state = CONNECTION_TEXT[state] ? state : 'idle';
  ui.connection.querySelector('.connection-text').textContent = text;
  ui.connection.title = title;
}

/** The gateway's base URL (the SDK adds the stream and poll paths). */
function gatewayUrl() {
  if (page.dev?.gateway_url) {
    const url = new URL(page.dev.gateway_url);
    // a gateway bound to every interface is reached on the host this page came from
    if (url.hostname === '0.0.0.0' || url.hostname === '[::]') url.hostname = location.hostname;
    return `${url.protocol}//${url.host}`;
  }
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${location.hostname}:${page.config?.gateway_port ?? 3001}`;
}

/** Small JSON documents served by the page route; null when absent (e.g. /dev-config.json in production). */
async function getJson(path) {
  try {
    const res = await fetch(path, { cache: 'no-store' });
    return res.ok ? await res.json() : null;
  } catch {
    return null;
  }
}

/** The claims of a JWT, read without verifying (the server verifies); null when it is not one. */
function readTokenClaims(token) {
  const parts = token.split('.');
  if (parts.length !== 3) return null;
  try {
    const json = atob(parts[1].replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(parts[1].length / 4) * 4, '='));
    const claims = JSON.parse(json);
    return claims && typeof claims.sub === 'string' ? claims : null;
  } catch {
    return null;
  }
}

class Session {
  constructor(token, userId) {
    this.token = token;
    this.userId = userId;
    this.api = createClient({ baseUrl: '', token });
    const path = { userId };
    this.store = new FeedStore({
      load: () => this.api.listUserNotifications({ path, query: { limit: 100 } }),
      onError: (err) => this.onError(err),
    });
    this.view = new FeedView(ui.feed, ui.empty);
    this.appsView = new AppsView(ui.apps, ui.appsEmpty);
    this.settings = settings;
    settings.use({
      load: () => this.api.getPreferences({ path }),
      // a JSON Merge Patch, applied only if the stored document is still at `revision` (else 412)
      save: (patch, revision) => this.api.patchPreferences({ path, body: patch, headers: { 'if-match': `"${revision}"` } }),
    });
    this.installed = [];
    this.live = null;
    this.clock = null;
    this.refetch = null;
    this.unsubscribe = this.store.subscribe(() => this.render());
  }

  async start() {
    await this.sync(); // throws on a rejected token: the caller shows the sign-in form again
    await this.loadApps();
    this.live = this.store.connect({
      url: gatewayUrl(),
      getToken: () => this.token,
      // WebSockets blocked: long-poll after 3 s; try the WebSocket again every 10 s
      probeEveryMs: 10_000,
      onStatus: (status) => this.onStatus(status),
      onEvent: (event, change) => {
        if (event.event_category === 'app') this.loadApps().catch((err) => this.onError(err));
        if (change.added) announce(`New notification from ${change.added.app_name}: ${change.added.title}`);
      },
      onMessage: (message) => {
        if (message.type === 'preferences.updated') this.settings.changedElsewhere(message.revision);
      },
    });
    this.clock = setInterval(() => this.view.refreshTimes(), 30_000);
  }

  stop() {
    this.live?.close();
    this.unsubscribe();
    clearInterval(this.refetch);
    this.settings.use(null);
    clearInterval(this.clock);
    ui.feed.replaceChildren();
    showConnection('idle');
  }

  onStatus(status) {
    showConnection(status);
    // (re)connected: a preferences.updated may have been missed while away
    if ((status === 'live' || status === 'polling') && this.settings.isOpen && !this.settings.dirty) this.settings.reload();
    // the gateway cannot be reached at all: keep the feed fresh over REST until it can
    clearInterval(this.refetch);
    this.refetch = status === 'reconnecting' ? setInterval(() => this.sync().catch((err) => this.onError(err)), REFETCH_MS) : null;
  }

  render() {
    const { notifications, unread, total } = this.store.getSnapshot();
    this.view.render(notifications);
    ui.badge.hidden = unread === 0;
    ui.badge.textContent = unread > 99 ? '99+' : String(unread);
    ui.badge.setAttribute('aria-label', `${unread} unread`);
    document.title = unread > 0 ? `(${unread}) Notifications · Oriva` : 'Notifications · Oriva';
    ui.markAllRead.disabled = unread === 0;
    // the feed loads one page (the API's maximum); say so rather than pretend it is everything
    const shown = notifications.length;
    ui.more.hidden = total <= shown;
    ui.more.textContent = `Showing the first ${shown} of ${total} notifications, most important first.`;
  }

  /** Reload the REST feed (one load at a time: the store joins calls). */
  async sync() {
    await this.store.refresh();
    ui.feedError.textContent = '';
  }

  /** The installed apps; reloaded when the gateway says one was installed or uninstalled. */
  async loadApps() {
    try {
      this.installed = (await this.api.listInstalledApps({ path: { userId: this.userId } })).apps;
      this.appsView.render(this.installed);
      ui.appsError.textContent = '';
    } catch (err) {
      if (err instanceof OrivaApiError && err.status === 401) throw err;
      ui.appsError.textContent = err instanceof Error ? err.message : String(err);
    }
  }

  async uninstall(appId) {
    const app = this.installed.find((a) => a.app_id === appId);
    if (!app) return;
    ui.uninstallName.textContent = app.app_name;
    ui.uninstallDialog.returnValue = '';
    ui.uninstallDialog.showModal();
    const choice = await new Promise((resolve) => ui.uninstallDialog.addEventListener('close', () => resolve(ui.uninstallDialog.returnValue), { once: true }));
    if (choice !== 'uninstall') return;
    try {
      await this.api.uninstallApp({ path: { userId: this.userId, appId } });
      announce(`Uninstalled ${app.app_name}`);
      await this.loadApps();
    } catch (err) {
      ui.appsError.textContent = err instanceof Error ? err.message : String(err);
    }
  }

  onError(err) {
    if (err instanceof OrivaApiError && err.status === 401) {
      signOut('Your token was rejected or has expired. Sign in again.');
      return;
    }
    ui.feedError.textContent = err instanceof Error ? err.message : String(err);
  }

  setStatus(id, status, extra = {}) {
    return this.api.updateNotificationState({ path: { id }, body: { status, ...extra } });
  }

  async act(id, action) {
    const n = this.store.get(id);
    if (!n) return;
    ui.feedError.textContent = '';
    try {
      if (action === 'toggle-read') {
        const status = n.status === 'unread' ? 'read' : 'unread';
        await this.setStatus(id, status);
        this.store.setStatus(id, status);
      } else if (action === 'dismiss') {
        await this.setStatus(id, 'dismissed', { dismissed_from: 'oriva_core' });
        this.store.setStatus(id, 'dismissed');
        announce(`Dismissed: ${n.title}`);
      } else if (action === 'open') {
        const url = safeActionUrl(n.action_url);
        if (!url) return;
        // a new tab for web links (the inbox stays open); an app's own scheme hands over to the app
        const tab = /^https?:$/.test(url.protocol) ? window.open('about:blank', '_blank') : null;
        try {
          if (n.status !== 'clicked') {
            await this.setStatus(id, 'clicked', { click_action: 'open' });
            this.store.setStatus(id, 'clicked');
          }
        } finally {
          if (tab) {
            tab.opener = null;
            tab.location.href = url.href;
          } else {
            location.assign(url.href);
          }
        }
      }
    } catch (err) {
      this.onError(err);
      if (err instanceof OrivaApiError && err.status === 400) this.sync().catch((e) => this.onError(e));
    }
  }

  async markAllRead() {
    ui.feedError.textContent = '';
    try {
      await this.api.markAllRead({ path: { userId: this.userId }, body: {} });
      this.store.markAllRead();
      announce('All notifications marked read');
    } catch (err) {
      this.onError(err);
    }
  }
}

async function signIn(token) {
  const claims = readTokenClaims(token);
  if (!claims) throw new Error('That is not a user token (expected a JWT: three dot-separated parts).');
  const session = new Session(token, claims.sub);
  try {
    await session.start();
  } catch (err) {
    session.stop();
    if (err instanceof OrivaApiError && err.status === 401) throw new Error('The server rejected this token (wrong secret or expired).');
    throw err;
  }
  page.session = session;
  sessionStorage.setItem(TOKEN_KEY, token);
  ui.signIn.hidden = true;
  ui.inbox.hidden = false;
  ui.who.hidden = false;
  ui.who.textContent = claims.sub;
  ui.who.title = `Signed in as ${claims.sub}`;
  ui.signOut.hidden = false;
  ui.devPanel.hidden = !page.dev;
  ui.appsPanel.hidden = false;
  ui.settingsOpen.hidden = false;
  if (page.dev) ui.devAppId.textContent = page.dev.app_id;
  ui.devOutbox.hidden = !page.dev?.outbox_url;
}

function signOut(message = '') {
  page.session?.stop();
  page.session = null;
  sessionStorage.removeItem(TOKEN_KEY);
  ui.inbox.hidden = true;
  ui.devPanel.hidden = true;
  ui.appsPanel.hidden = true;
  ui.settingsOpen.hidden = true;
  ui.who.hidden = true;
  ui.signOut.hidden = true;
  ui.badge.hidden = true;
  document.title = 'Notifications · Oriva';
  ui.signIn.hidden = false;
  ui.signInError.textContent = message;
  ui.tokenInput.value = page.dev?.user_token ?? '';
  ui.tokenInput.focus();
}

ui.signInForm.addEventListener('submit', async (event) => {
  event.preventDefault();
  const token = ui.tokenInput.value.trim();
  ui.signInError.textContent = '';
  if (!token) {
    ui.signInError.textContent = 'Paste a user token first.';
    return;
  }
  const submit = ui.signInForm.querySelector('button[type="submit"]');
  submit.disabled = true;
  try {
    await signIn(token);
    ui.feed.focus({ preventScroll: true });
  } catch (err) {
    ui.signInError.textContent = err instanceof Error ? err.message : String(err);
  } finally {
    submit.disabled = false;
  }
});

ui.signOut.addEventListener('click', () => signOut());
ui.settingsOpen.addEventListener('click', () => page.session && settings.open(page.session.installed));
ui.markAllRead.addEventListener('click', () => page.session?.markAllRead());

ui.feed.addEventListener('click', (event) => {
  const target = event.target instanceof Element ? event.target.closest('button[data-action]') : null;
  const item = target?.closest('li[data-id]');
  if (!target || !item || !page.session || target.getAttribute('aria-disabled') === 'true') return;
  // aria-disabled, not disabled: a disabled button loses focus, and focus must stay in the feed
  target.setAttribute('aria-disabled', 'true');
  page.session.act(item.dataset.id, target.dataset.action).finally(() => {
    target.removeAttribute('aria-disabled');
  });
});

ui.apps.addEventListener('click', (event) => {
  const target = event.target instanceof Element ? event.target.closest('button[data-action="uninstall"]') : null;
  const item = target?.closest('li[data-app-id]');
  if (target && item && page.session) page.session.uninstall(item.dataset.appId);
});

ui.devForm.addEventListener('submit', async (event) => {
  event.preventDefault();
  if (!page.dev || !page.session) return;
  const form = new FormData(ui.devForm);
  const notification = {
    external_id: `dev-${crypto.randomUUID()}`,
    user_id: page.session.userId,
    notification_type: 'test',
    title: String(form.get('title') ?? '').trim(),
    body: String(form.get('body') ?? '').trim(),
    priority: String(form.get('priority') ?? 'normal'),
  };
  const actionUrl = String(form.get('action_url') ?? '').trim();
  if (actionUrl) Object.assign(notification, { action_url: actionUrl, action_label: 'Open link' });
  ui.devStatus.textContent = 'Sending…';
  ui.devStatus.dataset.kind = '';
  try {
    const asApp = createClient({ baseUrl: '', token: page.dev.api_key });
    await asApp.createNotification({ path: { appId: page.dev.app_id }, body: notification });
    ui.devStatus.textContent = `Sent as ${page.dev.app_id}.`;
  } catch (err) {
    ui.devStatus.dataset.kind = 'error';
    ui.devStatus.textContent = err instanceof Error ? err.message : String(err);
  }
});

async function boot() {
  page.config = await getJson('/page-config.json');
  page.dev = page.config?.dev ? await getJson('/dev-config.json') : null;
  showConnection('idle');
  const saved = sessionStorage.getItem(TOKEN_KEY);
  if (saved) {
    try {
      await signIn(saved);
      return;
    } catch (err) {
      signOut(err instanceof Error ? err.message : String(err));
      return;
    }
  }
  signOut();
}

boot();
