// A user's preference document (DESIGN §9): what reaches them, per channel, category, app and
// notification type, their quiet hours and email settings. One document per user, the same in every
// app; the REST API (server/routes/preferences.ts) reads and writes it, the routing step applies it
// in SQL (oriva.preference_suppression). Here: the defaults, normalising what a user wrote into the
// full document, the checks JSON Schema cannot say, and JSON Merge Patch (RFC 7386).
import { run, type Queryable } from './db.js';
import { badRequest } from './errors.js';
import { NOTIFICATION_CATEGORIES } from './schemas/notifications.js';
import type { CHANNEL_SWITCHES } from './schemas/preferences.js';
import { sqlStatement } from './sql.js';

export type ChannelSwitch = (typeof CHANNEL_SWITCHES)[number];
type Switches = Record<ChannelSwitch, boolean>;

export interface QuietHours {
  start: string;
  end: string;
  timezone: string;
}

/** The stored document: every key present (what GET returns, without updated_at and revision). */
export interface PreferenceDocument {
  channels: Switches;
  categories: Record<(typeof NOTIFICATION_CATEGORIES)[number], Switches>;
  apps: Record<string, { muted: boolean; types: Record<string, Switches> }>;
  quiet_hours: QuietHours | null;
  email: { address: string | null; delay_seconds: number };
}

/** What a client writes: every key optional (PUT), or a merge patch's result. */
export type WrittenDocument = {
  channels?: Partial<Switches>;
  categories?: Partial<Record<string, Partial<Switches>>>;
  apps?: Record<string, { muted?: boolean; types?: Record<string, Partial<Switches>> }>;
  quiet_hours?: QuietHours | null;
  email?: { address?: string | null; delay_seconds?: number };
};

export const DEFAULT_EMAIL_DELAY_SECONDS = 300;

const allOn = (): Switches => ({ in_app: true, email: true });
const switches = (written: Partial<Switches> | undefined): Switches => ({ ...allOn(), ...written });

/** The full document for what a user wrote (nothing written: the defaults). */
export function normalise(written: WrittenDocument = {}): PreferenceDocument {
  const categories = Object.fromEntries(NOTIFICATION_CATEGORIES.map((c) => [c, switches(written.categories?.[c])])) as PreferenceDocument['categories'];
  const apps: PreferenceDocument['apps'] = {};
  for (const [appId, app] of Object.entries(written.apps ?? {})) {
    const types = Object.fromEntries(Object.entries(app.types ?? {}).map(([type, s]) => [type, switches(s)]));
    apps[appId] = { muted: app.muted ?? false, types };
  }
  return {
    channels: switches(written.channels),
    categories,
    apps,
    quiet_hours: written.quiet_hours ?? null,
    email: { address: written.email?.address ?? null, delay_seconds: written.email?.delay_seconds ?? DEFAULT_EMAIL_DELAY_SECONDS },
  };
}

/** JSON Merge Patch (RFC 7386): objects merge key by key, null removes a key, anything else replaces. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return patch;
  const result: Record<string, unknown> = target !== null && typeof target === 'object' && !Array.isArray(target) ? { ...(target as Record<string, unknown>) } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = mergePatch(result[key], value);
  }
  return result;
}

const TIME = /^([01]\d|2[0-3]):[0-5]\d$/;

/** The IANA name as the platform spells it, or null when it is not one. */
function canonicalTimeZone(name: string): string | null {
  if (!/^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+)*$/.test(name)) return null; // not an offset like +01:00
  try {
    return new Intl.DateTimeFormat('en', { timeZone: name }).resolvedOptions().timeZone;
  } catch {
    return null;
  }
}

/**
 * The checks the schema cannot express, with the field path and an exact message each; returns the
 * document with its time zone spelled canonically. Throws a 400 naming every problem.
 */
export function checked(document: PreferenceDocument): PreferenceDocument {
  const problems: { path: string; message: string }[] = [];
  if (!document.categories.security.in_app) {
    problems.push({ path: 'body/categories/security/in_app', message: 'cannot be switched off: security notifications always reach the feed' });
  }
  let quiet = document.quiet_hours;
  if (quiet) {
    for (const key of ['start', 'end'] as const) {
      if (!TIME.test(quiet[key])) problems.push({ path: `body/quiet_hours/${key}`, message: 'must be a time of day as HH:MM (00:00 to 23:59)' });
    }
    const zone = canonicalTimeZone(quiet.timezone);
    if (!zone) problems.push({ path: 'body/quiet_hours/timezone', message: 'must be an IANA time zone name such as Europe/Berlin' });
    else quiet = { ...quiet, timezone: zone };
  }
  const address = document.email.address;
  if (address !== null && !isEmailAddress(address)) problems.push({ path: 'body/email/address', message: 'must be an email address' });
  if (problems.length) throw badRequest(`${problems[0]!.path} ${problems[0]!.message}`, problems);
  return { ...document, quiet_hours: quiet };
}

/** One addr-spec without display name or comments: local@domain with a dotted domain. */
function isEmailAddress(value: string): boolean {
  return value.length <= 254 && /^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$/.test(value);
}

export interface StoredPreferences {
  document: PreferenceDocument;
  revision: number;
  updated_at: Date | null;
  /** When the address started bouncing (the email channel is paused until it changes); null: it does not. */
  email_bounced_at: Date | null;
}

const load = sqlStatement<{ user_id: string }, { document: PreferenceDocument; revision: string; updated_at: Date; email_bounced_at: Date | null }>('preferences/get');
const save = sqlStatement<{ user_id: string; document: string; expected_revision: number | null }, { document: PreferenceDocument; revision: string; updated_at: Date; email_bounced_at: Date | null }>('preferences/save');
const knownApps = sqlStatement<{ app_ids: string[] }, { id: string }>('preferences/known_apps');

const stored = (row: { document: PreferenceDocument; revision: string; updated_at: Date; email_bounced_at: Date | null }): StoredPreferences =>
  ({ document: row.document, revision: Number(row.revision), updated_at: row.updated_at, email_bounced_at: row.email_bounced_at });

/** The user's document (the defaults at revision 0 when they never saved one). */
export async function loadPreferences(db: Queryable, userId: string): Promise<StoredPreferences> {
  const [row] = await run(db, load, { user_id: userId });
  return row ? stored(row) : { document: normalise(), revision: 0, updated_at: null, email_bounced_at: null };
}

/** Store a checked document if the stored revision is still `expected` (null: whatever it is); null when it is not. */
export async function savePreferences(db: Queryable, userId: string, document: PreferenceDocument, expected: number | null): Promise<StoredPreferences | null> {
  const unknown = await unknownApps(db, Object.keys(document.apps));
  if (unknown.length) {
    const problems = unknown.map((id) => ({ path: `body/apps/${id}`, message: 'is not a known app' }));
    throw badRequest(`${problems[0]!.path} ${problems[0]!.message}`, problems);
  }
  const [row] = await run(db, save, { user_id: userId, document: JSON.stringify(document), expected_revision: expected });
  return row ? stored(row) : null;
}

async function unknownApps(db: Queryable, appIds: string[]): Promise<string[]> {
  if (appIds.length === 0) return [];
  const known = new Set((await run(db, knownApps, { app_ids: appIds })).map((r) => r.id));
  return appIds.filter((id) => !known.has(id));
}
