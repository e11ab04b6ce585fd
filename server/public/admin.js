// The admin console (DESIGN §12): a platform app's key signs in (GET /api/v1/me); everything shown
// comes from the API with that key — stats and charts, the per-app table, webhook health with replay,
// notification search and the broadcast composer. Every app string is set as text, never as HTML.
import { createClient, OrivaApiError } from '/assets/client/index.js';

// The chart library, loaded on its own: if it cannot run in this browser (uPlot formats numbers with
// navigator.language at load, which some systems report as e.g. "en-US@posix"), the console still
// works and shows each chart's data as its table. Not awaited here: the sign-in form's handler must
// be in place as soon as the page is, or a key typed and submitted meanwhile reloads the page.
const chartLibrary = import('/assets/vendor/uplot.js').then((module) => module.default, () => null);

const KEY_STORAGE = 'oriva.admin.key';
const $ = (id) => document.getElementById(id);

const state = { key: null, me: null, charts: [], api: null };

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (name === 'text') node.textContent = value;
    else if (name === 'class') node.className = value;
    else node.setAttribute(name, value);
  }
  for (const child of children) if (child !== null && child !== undefined) node.append(child);
  return node;
}

const percent = (rate) => (rate === null || rate === undefined ? '—' : `${(rate * 100).toFixed(1)}%`);
const number = (n) => (n === null || n === undefined ? '—' : Number(n).toLocaleString('en-US'));
const when = (iso) => (iso ? new Date(iso).toISOString().replace('T', ' ').slice(0, 16) + ' UTC' : '—');

// ---- sign-in -------------------------------------------------------------------------------

function showSignIn(message = '') {
  state.key = null;
  state.me = null;
  sessionStorage.removeItem(KEY_STORAGE);
  $('console').hidden = true;
  $('who').hidden = true;
  $('sign-out').hidden = true;
  $('sign-in').hidden = false;
  $('sign-in-error').textContent = message;
}

async function signIn(key) {
  state.key = key;
  state.api = createClient({ baseUrl: '', token: key });
  let me;
  try {
    me = (await state.api.getCaller()).caller;
  } catch (err) {
    showSignIn(err instanceof OrivaApiError && err.status === 401 ? 'This key is not valid (revoked, or mistyped).' : err.message);
    return;
  }
  if (me.kind !== 'app' || !me.platform) {
    showSignIn('This key is not a platform app’s: the console is for platform operators.');
    return;
  }
  state.me = me;
  sessionStorage.setItem(KEY_STORAGE, key);
  $('sign-in').hidden = true;
  $('who').textContent = me.name;
  $('who').hidden = false;
  $('sign-out').hidden = false;
  $('broadcast-app').textContent = me.name;
  $('console').hidden = false;
  $('console').focus();
  await Promise.all([loadOverview(), loadHealth()]);
}

// ---- overview: rates, charts, the per-app table ----------------------------------------------

const RATE_TARGETS = [
  ['viewed', 'Viewed', 'target ≥ 80%'],
  ['acted', 'Acted on', 'target > 30%'],
  ['delivery_failures', 'Delivery failures', 'target < 5%'],
  ['webhook_success', 'Webhook success', 'target > 95%'],
];

function renderRates(rates) {
  const list = $('rates');
  list.replaceChildren(...RATE_TARGETS.map(([key, label, target]) =>
    el('div', { class: 'rate', 'data-rate': key }, el('dt', { text: label }), el('dd', { text: percent(rates[key]) }), el('dd', { class: 'target', text: target }))));
}

function renderTable(table, columns, buckets, interval) {
  const head = el('tr', {}, el('th', { scope: 'col', text: interval === 'hour' ? 'Hour (UTC)' : 'Day (UTC)' }), ...columns.map(([, label]) => el('th', { scope: 'col', text: label })));
  const rows = buckets.map((b) => el('tr', {}, el('th', { scope: 'row', text: interval === 'hour' ? b.start.slice(0, 13).replace('T', ' ') : b.start.slice(0, 10) }),
    ...columns.map(([key]) => el('td', { text: number(b[key]) }))));
  table.replaceChildren(el('thead', {}, head), el('tbody', {}, ...rows));
}

function drawChart(uPlot, container, columns, buckets) {
  if (!uPlot) {
    container.replaceChildren(el('p', { class: 'hint', text: 'Charts cannot be drawn in this browser: the figures are in the data table below.' }));
    container.closest('figure').querySelector('details').open = true;
    return;
  }
  const width = Math.max(260, container.clientWidth || 600);
  const data = [buckets.map((b) => Date.parse(b.start) / 1000), ...columns.map(([key]) => buckets.map((b) => b[key]))];
  const colors = ['#4f46e5', '#12b76a', '#f79009', '#b42318', '#0ea5e9'];
  const chart = new uPlot({
    width,
    height: 220,
    series: [{}, ...columns.map(([, label], i) => ({ label, stroke: colors[i % colors.length], width: 2 }))],
    axes: [{}, { size: 50 }],
    scales: { x: { time: true } },
  }, data, container);
  state.charts.push({ chart, container });
}

const NOTIFICATION_SERIES = [['created', 'Created'], ['delivered', 'Delivered'], ['read', 'Read'], ['clicked', 'Clicked'], ['suppressed', 'Suppressed']];
const WEBHOOK_SERIES = [['webhook_ok', 'OK'], ['webhook_failed', 'Failed']];

async function loadOverview() {
  const range = $('range').value;
  const interval = range === '24h' ? 'hour' : 'day';
  const to = new Date();
  const from = new Date(to.getTime() - (range === '24h' ? 24 * 3600e3 : 30 * 86400e3));
  const app = $('app-filter').value;
  const query = { interval, from: from.toISOString(), to: to.toISOString(), ...(app ? { app_id: app } : {}) };
  $('overview-error').textContent = '';
  let stats;
  try {
    stats = await state.api.getPlatformStats({ query });
  } catch (err) {
    $('overview-error').textContent = err.message;
    return;
  }
  const uPlot = await chartLibrary;
  renderRates(stats.rates);
  for (const { chart } of state.charts) chart.destroy();
  state.charts = [];
  $('chart-notifications').replaceChildren();
  $('chart-webhooks').replaceChildren();
  drawChart(uPlot, $('chart-notifications'), NOTIFICATION_SERIES, stats.buckets);
  drawChart(uPlot, $('chart-webhooks'), WEBHOOK_SERIES, stats.buckets);
  renderTable($('data-notifications'), NOTIFICATION_SERIES, stats.buckets, interval);
  renderTable($('data-webhooks'), WEBHOOK_SERIES, stats.buckets, interval);
  $('rolled-up').textContent = `Figures as of ${when(stats.rolled_up_to)} (the rollups run every minute).`;
  renderApps(stats.apps);
}

function renderApps(apps) {
  const select = $('app-filter');
  const chosen = select.value;
  const known = new Set([...select.options].map((o) => o.value));
  for (const a of apps) if (!known.has(a.app_id)) select.append(el('option', { value: a.app_id, text: a.name }));
  select.value = chosen;
  $('apps-empty').hidden = apps.length > 0;
  $('apps-table').tBodies[0].replaceChildren(...apps.map((a) => el('tr', { 'data-app': a.app_id },
    el('th', { scope: 'row' }, el('span', { class: 'app-cell', text: a.name }), el('span', { class: 'muted', text: ` ${a.app_id}` })),
    el('td', { text: number(a.totals.created) }),
    el('td', { text: number(a.totals.delivered) }),
    el('td', { text: percent(a.rates.viewed) }),
    el('td', { text: percent(a.rates.acted) }),
    el('td', { text: `${number(a.totals.emails_sent)} sent, ${number(a.totals.emails_failed)} failed` }),
    el('td', { text: percent(a.rates.webhook_success) }))));
}

// ---- webhook health ----------------------------------------------------------------------------

function healthState(hook) {
  if (!hook.is_active) return ['disabled', `Disabled: ${hook.disabled_reason ?? 'turned off'}`];
  if (hook.failing_since) return ['failing', `Failing since ${when(hook.failing_since)}`];
  return ['failures', `Failed ${when(hook.last_failure_at)}`];
}

async function loadHealth() {
  let hooks;
  try {
    hooks = (await state.api.getWebhookHealth()).webhooks;
  } catch (err) {
    $('health-status').textContent = err.message;
    $('health-status').dataset.kind = 'error';
    return;
  }
  $('health-empty').hidden = hooks.length > 0;
  $('health-table').tBodies[0].replaceChildren(...hooks.map((hook) => {
    const [kind, label] = healthState(hook);
    const replay = el('button', { type: 'button', class: 'replay', text: 'Replay failed' });
    if (!hook.is_active) {
      replay.disabled = true;
      replay.title = 'Turn the webhook back on before replaying';
    }
    replay.addEventListener('click', () => replayFailed(hook, replay));
    const errors = el('ul', { class: 'errors' }, ...hook.last_errors.map((e) => el('li', { text: `${when(e.at)} · ${e.error ?? ''}` })));
    return el('tr', { 'data-webhook': hook.webhook_id, 'data-state': kind },
      el('th', { scope: 'row', text: hook.app_name }),
      el('td', { class: 'url', text: hook.url }),
      el('td', {}, el('span', { class: `pill pill-${kind}`, text: label })),
      el('td', { text: `${hook.failed} of ${hook.attempts} failed` }),
      el('td', {}, errors),
      el('td', {}, replay));
  }));
}

async function replayFailed(hook, button) {
  button.disabled = true;
  const status = $('health-status');
  try {
    const result = await state.api.replayFailedDeliveriesAsOperator({ path: { id: hook.webhook_id }, body: {} });
    status.dataset.kind = 'ok';
    status.textContent = `${result.replayed} failed ${result.replayed === 1 ? 'delivery' : 'deliveries'} of ${hook.app_name}'s webhook queued again.`;
  } catch (err) {
    status.dataset.kind = 'error';
    status.textContent = err.message;
  } finally {
    button.disabled = !hook.is_active;
  }
}

// ---- search ------------------------------------------------------------------------------------

async function search(form) {
  const query = {};
  for (const [name, value] of new FormData(form)) if (String(value).trim()) query[name] = String(value).trim();
  $('search-error').textContent = '';
  let found;
  try {
    found = (await state.api.searchNotifications({ query })).notifications;
  } catch (err) {
    $('search-error').textContent = err.message;
    return;
  }
  $('search-count').textContent = `${found.length} ${found.length === 1 ? 'notification' : 'notifications'} found`;
  $('search-results').replaceChildren(...found.map((n) => el('li', { class: 'result', 'data-id': n.id },
    el('div', { class: 'meta' },
      el('span', { class: 'app-name', text: n.app_id }),
      el('span', { text: n.user_id ? `to ${n.user_id}` : 'broadcast' }),
      el('span', { text: `${n.notification_type} · ${n.category}` }),
      el('span', { text: n.status ?? '' }),
      el('time', { datetime: n.created_at, text: when(n.created_at) })),
    el('p', { class: 'title', text: n.title }),
    el('p', { class: 'body', text: n.body }))));
}

// ---- broadcast composer ------------------------------------------------------------------------

async function broadcast(form) {
  const data = Object.fromEntries(new FormData(form));
  const status = $('broadcast-status');
  const audience = data.audience === 'topic' ? { topic: String(data.topic).trim() } : { all: true };
  try {
    const result = await state.api.sendBroadcast({ path: { appId: state.me.app_id }, body: {
      external_id: `console-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`,
      notification_type: String(data.notification_type).trim(),
      category: data.category,
      title: String(data.title).trim(),
      body: String(data.body).trim(),
      audience,
    } });
    status.dataset.kind = 'ok';
    status.textContent = `Broadcast sent at ${when(result.sent_at)}.`;
    form.reset();
  } catch (err) {
    status.dataset.kind = 'error';
    status.textContent = err.message;
  }
}

// ---- wiring ------------------------------------------------------------------------------------

$('sign-in-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const key = $('key-input').value.trim();
  if (!key) {
    $('sign-in-error').textContent = 'Paste a platform app’s API key.';
    return;
  }
  $('key-input').value = '';
  void signIn(key);
});
$('sign-out').addEventListener('click', () => showSignIn());
$('range').addEventListener('change', () => void loadOverview());
$('app-filter').addEventListener('change', () => void loadOverview());
$('health-refresh').addEventListener('click', () => void loadHealth());
$('search-form').addEventListener('submit', (event) => {
  event.preventDefault();
  void search(event.currentTarget);
});
$('broadcast-form').addEventListener('submit', (event) => {
  event.preventDefault();
  void broadcast(event.currentTarget);
});
window.addEventListener('resize', () => {
  for (const { chart, container } of state.charts) chart.setSize({ width: Math.max(260, container.clientWidth), height: 220 });
});

const saved = sessionStorage.getItem(KEY_STORAGE);
if (saved) void signIn(saved);
else showSignIn();
