// "Your apps": the apps the signed-in user installed, each with an Uninstall button that asks first
// (a <dialog>). Text only through textContent; icons only from http(s) URLs.
import { relativeTime } from './time.js';

function iconUrl(raw) {
  try {
    const url = new URL(raw);
    return url.protocol === 'https:' || url.protocol === 'http:' ? url.href : null;
  } catch {
    return null;
  }
}

export class AppsView {
  constructor(list, empty) {
    this.list = list;
    this.empty = empty;
  }

  render(apps) {
    this.list.replaceChildren(...apps.map((app) => this.item(app)));
    this.empty.hidden = apps.length > 0;
  }

  item(app) {
    const li = document.createElement('li');
    li.className = 'installed';
    li.dataset.appId = app.app_id;
    const icon = app.app_icon ? iconUrl(app.app_icon) : null;
    if (icon) {
      const img = document.createElement('img');
      img.src = icon;
      img.alt = '';
      img.width = 24;
      img.height = 24;
      img.referrerPolicy = 'no-referrer';
      li.append(img);
    }
    const text = document.createElement('div');
    text.className = 'installed-text';
    const name = document.createElement('span');
    name.className = 'installed-name';
    name.textContent = app.app_name;
    const since = document.createElement('span');
    since.className = 'installed-since';
    since.textContent = `Installed ${relativeTime(app.installed_at)}`;
    text.append(name, since);
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'link-button';
    button.dataset.action = 'uninstall';
    button.textContent = 'Uninstall';
    button.setAttribute('aria-label', `Uninstall ${app.app_name}`);
    li.append(text, button);
    return li;
  }
}
