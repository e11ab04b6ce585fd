// Rendering. Every piece of data reaches the page through textContent or setAttribute, never as
// markup. The list is keyed by notification id and updated in place, so focus survives updates.
import { fullTime, relativeTime } from './time.js';

const PRIORITY_LABEL = { urgent: 'Urgent', high: 'High', normal: '', low: 'Low' };
const STATUS_LABEL = { unread: 'Unread', read: 'Read', clicked: 'Opened' };
const BLOCKED_SCHEMES = new Set(['javascript:', 'data:', 'vbscript:', 'file:', 'blob:', 'about:', 'filesystem:']);

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/** action_url if the page may follow it: http(s) or an app's own scheme (workbuddy://…), nothing script-like. */
export function safeActionUrl(raw) {
  if (typeof raw !== 'string' || raw === '') return null;
  try {
    const url = new URL(raw, location.href);
    return BLOCKED_SCHEMES.has(url.protocol) ? null : url;
  } catch {
    return null;
  }
}

function hue(text) {
  let h = 0;
  for (const ch of text) h = (h * 31 + ch.codePointAt(0)) % 360;
  return h;
}

function initials(name) {
  const words = name.split(/[\s_-]+/).filter(Boolean);
  return ((words[0]?.[0] ?? '?') + (words[1]?.[0] ?? '')).toUpperCase();
}

function avatar(n) {
  const box = el('span', 'avatar');
  box.setAttribute('aria-hidden', 'true');
  const name = n.app_name || n.app_id || '?';
  box.style.setProperty('--hue', String(hue(n.app_id || name)));
  box.textContent = initials(name);
  const icon = typeof n.app_icon === 'string' && /^https:\/\//i.test(n.app_icon) ? n.app_icon : null;
  if (icon) {
    const img = el('img');
    img.alt = '';
    img.referrerPolicy = 'no-referrer';
    img.loading = 'lazy';
    img.src = icon;
    img.addEventListener('error', () => img.remove());
    box.append(img);
  }
  return box;
}

function button(action, label, accessibleName, className = '') {
  const b = el('button', `action ${className}`.trim(), label);
  b.type = 'button';
  b.dataset.action = action;
  b.setAttribute('aria-label', accessibleName);
  return b;
}

function buildItem(n) {
  const li = el('li', 'item');
  li.dataset.id = n.id;
  const titleId = `title-${n.id}`;
  const article = el('article', 'card-item');
  article.setAttribute('aria-labelledby', titleId);

  const content = el('div', 'content');
  const meta = el('div', 'meta');
  meta.append(el('span', 'app-name', n.app_name || n.app_id));
  const time = el('time', 'when');
  time.dateTime = n.created_at;
  time.dataset.created = n.created_at;
  time.title = fullTime(n.created_at);
  time.textContent = relativeTime(n.created_at);
  meta.append(time);
  const priority = PRIORITY_LABEL[n.priority] ?? '';
  if (priority) meta.append(el('span', `priority priority-${n.priority}`, priority));
  const state = el('span', 'state');
  meta.append(state);

  const title = el('h3', 'title', n.title);
  title.id = titleId;
  const body = el('p', 'body', n.body);

  const actions = el('div', 'actions');
  const url = safeActionUrl(n.action_url);
  if (url) {
    const label = n.action_label || 'Open';
    actions.append(button('open', label, `${label}: ${n.title}`, 'primary'));
  }
  actions.append(button('toggle-read', '', ''));
  actions.append(button('dismiss', 'Dismiss', `Dismiss: ${n.title}`, 'quiet'));

  content.append(meta, title, body, actions);
  article.append(avatar(n), content);
  li.append(article);
  return li;
}

function updateItem(li, n) {
  li.dataset.status = n.status;
  li.dataset.priority = n.priority;
  const state = li.querySelector('.state');
  state.textContent = STATUS_LABEL[n.status] ?? '';
  // unread shows as a dot and bold title, read as plain: only "Opened" needs visible words
  state.classList.toggle('visually-hidden', n.status !== 'clicked');
  const toggle = li.querySelector('[data-action="toggle-read"]');
  // read -> unread is allowed; clicked -> unread is not (the state machine), so the button goes away
  toggle.hidden = n.status === 'clicked';
  toggle.textContent = n.status === 'unread' ? 'Mark read' : 'Mark unread';
  toggle.setAttribute('aria-label', `${toggle.textContent}: ${n.title}`);
}

export class FeedView {
  constructor(list, empty) {
    this.list = list;
    this.empty = empty;
    this.nodes = new Map();
  }

  render(notifications) {
    const keep = new Set(notifications.map((n) => n.id));
    // Focus inside an item that goes away (dismissed here, or elsewhere and pushed in) moves to the
    // item that takes its place, else the one before it, else the list: it never drops to <body>.
    let refocusAt = -1;
    for (const [id, li] of this.nodes) {
      if (!keep.has(id)) {
        if (li.contains(document.activeElement)) refocusAt = [...this.list.children].indexOf(li);
        li.remove();
        this.nodes.delete(id);
      }
    }
    notifications.forEach((n, index) => {
      let li = this.nodes.get(n.id);
      if (!li) {
        li = buildItem(n);
        this.nodes.set(n.id, li);
      }
      updateItem(li, n);
      const at = this.list.children[index];
      if (at !== li) this.list.insertBefore(li, at ?? null);
    });
    this.empty.hidden = notifications.length > 0;
    if (refocusAt >= 0) {
      const li = this.list.children[Math.min(refocusAt, this.list.children.length - 1)];
      (li?.querySelector('button:not([hidden])') ?? this.list).focus();
    }
  }

  refreshTimes() {
    for (const time of this.list.querySelectorAll('time[data-created]')) time.textContent = relativeTime(time.dataset.created);
  }
}
