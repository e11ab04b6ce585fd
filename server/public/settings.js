// The settings dialog: the user's preference document (DESIGN §9) as a form — channel and category
// switches, per-app mute for the installed apps, quiet hours, the email address. Saved as a JSON
// Merge Patch with If-Match, so a save over a change made in another tab or device is refused (412)
// and the latest settings are shown instead. App names only through textContent.

/** The categories and channels a user switches (lib/schemas/notifications.ts, lib/schemas/preferences.ts). */
export const CATEGORIES = ['security', 'system', 'social', 'task'];
export const CHANNELS = ['in_app', 'email'];

const CATEGORY_LABELS = { security: 'Security', system: 'System', social: 'Social', task: 'Tasks' };
const CHANNEL_LABELS = { in_app: 'in app', email: 'email' };
const LOCKED_TITLE = 'Security notifications always reach your inbox';

/** The browser's own IANA time zone (the picker's default). */
export function browserTimeZone() {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
}

function checkbox(name, label) {
  const input = document.createElement('input');
  input.type = 'checkbox';
  input.name = name;
  input.setAttribute('aria-label', label);
  return input;
}

export class SettingsView {
  /** @param {object} ui the dialog's elements */
  constructor(ui) {
    this.ui = ui;
    this.store = null;
    this.document = null;
    this.apps = [];
    this.dirty = false;
    this.buildSwitches();
    this.buildZones();
    ui.form.addEventListener('input', () => this.edited());
    ui.form.addEventListener('change', () => this.edited());
    ui.form.addEventListener('submit', (event) => {
      event.preventDefault();
      this.save();
    });
    ui.close.addEventListener('click', () => ui.dialog.close());
  }

  /**
   * The signed-in user's document, read and saved through `store` (null: signed out).
   * @param {{load: () => Promise<object>, save: (patch: object, revision: number) => Promise<object>} | null} store
   */
  use(store) {
    if (this.isOpen) this.ui.dialog.close();
    this.store = store;
    this.document = null;
  }

  get isOpen() {
    return this.ui.dialog.open;
  }

  /** Open with the stored settings and the installed apps. */
  async open(installed) {
    this.apps = installed;
    this.clearMessages();
    this.ui.dialog.showModal();
    await this.reload();
  }

  /** Read the stored document again and show it (any unsaved edit is dropped). */
  async reload() {
    try {
      this.show((await this.store.load()).preferences);
    } catch (err) {
      this.ui.error.textContent = err instanceof Error ? err.message : String(err);
    }
  }

  /** Another tab, device or app saved (preferences.updated): show it, unless the user is editing. */
  async changedElsewhere(revision) {
    if (!this.isOpen || (this.document && revision <= this.document.revision)) return;
    if (this.dirty) {
      this.ui.notice.textContent = 'These settings were just changed in another tab or device. Saving will show you the new ones first.';
      return;
    }
    await this.reload();
  }

  edited() {
    this.dirty = true;
    this.ui.status.textContent = '';
    this.syncQuietFields();
  }

  clearMessages() {
    this.ui.notice.textContent = '';
    this.ui.error.textContent = '';
    this.ui.status.textContent = '';
  }

  buildSwitches() {
    const rows = [['all', 'All notifications'], ...CATEGORIES.map((c) => [c, CATEGORY_LABELS[c]])];
    this.ui.switches.replaceChildren(...rows.map(([key, label]) => {
      const tr = document.createElement('tr');
      const th = document.createElement('th');
      th.scope = 'row';
      th.textContent = label;
      tr.append(th);
      for (const channel of CHANNELS) {
        const td = document.createElement('td');
        const input = checkbox(`${key}.${channel}`, `${label}: ${CHANNEL_LABELS[channel]}`);
        if (key === 'security' && channel === 'in_app') {
          input.disabled = true;
          input.title = LOCKED_TITLE;
        }
        td.append(input);
        tr.append(td);
      }
      return tr;
    }));
  }

  buildZones() {
    const zones = new Set(Intl.supportedValuesOf('timeZone'));
    zones.add(browserTimeZone());
    this.setZones(zones);
  }

  setZones(zones) {
    this.ui.zone.replaceChildren(...[...zones].sort().map((zone) => {
      const option = document.createElement('option');
      option.value = zone;
      option.textContent = zone.replace(/_/g, ' ');
      return option;
    }));
  }

  switchInput(key, channel) {
    return this.ui.form.elements.namedItem(`${key}.${channel}`);
  }

  show(prefs) {
    this.document = prefs;
    for (const channel of CHANNELS) {
      this.switchInput('all', channel).checked = prefs.channels[channel];
      for (const category of CATEGORIES) this.switchInput(category, channel).checked = prefs.categories[category][channel];
    }
    this.switchInput('security', 'in_app').checked = true;

    this.ui.apps.replaceChildren(...this.apps.map((app) => {
      const li = document.createElement('li');
      li.dataset.appId = app.app_id;
      const label = document.createElement('label');
      label.className = 'check';
      const input = checkbox(`mute:${app.app_id}`, `Mute ${app.app_name}`);
      input.checked = Boolean(prefs.apps[app.app_id]?.muted);
      const text = document.createElement('span');
      text.className = 'app-label';
      text.textContent = `Mute ${app.app_name}`;
      label.append(input, text);
      li.append(label);
      return li;
    }));
    this.ui.appsEmpty.hidden = this.apps.length > 0;

    const quiet = prefs.quiet_hours;
    this.ui.quietEnabled.checked = quiet !== null;
    this.ui.quietStart.value = quiet?.start ?? '22:00';
    this.ui.quietEnd.value = quiet?.end ?? '07:00';
    const zone = quiet?.timezone ?? browserTimeZone();
    if (![...this.ui.zone.options].some((o) => o.value === zone)) this.setZones([...[...this.ui.zone.options].map((o) => o.value), zone]);
    this.ui.zone.value = zone;
    this.ui.email.value = prefs.email.address ?? '';
    this.syncQuietFields();
    this.dirty = false;
  }

  syncQuietFields() {
    const off = !this.ui.quietEnabled.checked;
    for (const input of [this.ui.quietStart, this.ui.quietEnd, this.ui.zone]) input.disabled = off;
  }

  /** What the form says, as a merge patch of the keys this form owns (other keys stay as stored). */
  patch() {
    const switches = (key) => Object.fromEntries(CHANNELS.map((c) => [c, this.switchInput(key, c).checked]));
    const categories = Object.fromEntries(CATEGORIES.map((c) => [c, switches(c)]));
    const apps = Object.fromEntries(this.apps.map((app) => [app.app_id, { muted: this.ui.form.elements.namedItem(`mute:${app.app_id}`).checked }]));
    const address = this.ui.email.value.trim();
    return {
      channels: switches('all'),
      categories,
      apps,
      quiet_hours: this.ui.quietEnabled.checked
        ? { start: this.ui.quietStart.value, end: this.ui.quietEnd.value, timezone: this.ui.zone.value }
        : null,
      email: { address: address === '' ? null : address },
    };
  }

  async save() {
    if (!this.document) return;
    this.clearMessages();
    const submit = this.ui.form.querySelector('button[type="submit"]');
    submit.disabled = true;
    try {
      this.show((await this.store.save(this.patch(), this.document.revision)).preferences);
      this.ui.status.textContent = 'Saved.';
    } catch (err) {
      if (err?.status === 412) {
        await this.reload();
        this.ui.notice.textContent = 'These settings were changed in another tab or device, so yours were not saved. The latest are shown: make your change again.';
      } else {
        this.ui.error.textContent = err instanceof Error ? err.message : String(err);
      }
    } finally {
      submit.disabled = false;
    }
  }
}
