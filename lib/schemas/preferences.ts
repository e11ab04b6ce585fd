// The preference document (DESIGN §9, issue 14): as written (every key optional; PUT and the result
// of a PATCH) and as read (every key present). lib/preferences.ts adds the checks a schema cannot
// say (security in-app, HH:MM, IANA time zones, email addresses, known apps).
import { appId, closed, plainLine, userId } from './common.js';
import { NOTIFICATION_CATEGORIES } from './notifications.js';

/** The channels a user switches on and off (the routing step applies in_app today; email is DESIGN §10). */
export const CHANNEL_SWITCHES = ['in_app', 'email'] as const;

const switchesIn = {
  type: 'object',
  additionalProperties: false,
  properties: Object.fromEntries(CHANNEL_SWITCHES.map((c) => [c, { type: 'boolean' }])),
} as const;
const switchesOut = closed(Object.fromEntries(CHANNEL_SWITCHES.map((c) => [c, { type: 'boolean' }])));

const quietHoursIn = {
  type: ['object', 'null'],
  additionalProperties: false,
  required: ['start', 'end', 'timezone'],
  properties: {
    start: { type: 'string', maxLength: 5, examples: ['22:00'] },
    end: { type: 'string', maxLength: 5, examples: ['07:00'] },
    timezone: { type: 'string', maxLength: 64, examples: ['Europe/Berlin'] },
  },
  description: 'interrupting channels (email) wait until they end; urgent and security pass. null: none',
} as const;

const MAX_APPS = 500;
const MAX_TYPES = 100;

export const preferencesWrite = {
  type: 'object',
  additionalProperties: false,
  properties: {
    channels: { ...switchesIn, description: 'a channel delivers unless switched off here, per category or per app' },
    categories: {
      type: 'object',
      additionalProperties: false,
      properties: Object.fromEntries(NOTIFICATION_CATEGORIES.map((c) => [c, switchesIn])),
      description: 'security cannot be switched off for in_app',
    },
    apps: {
      type: 'object',
      maxProperties: MAX_APPS,
      additionalProperties: {
        type: 'object',
        additionalProperties: false,
        properties: {
          muted: { type: 'boolean', description: 'every channel off for this app' },
          types: { type: 'object', maxProperties: MAX_TYPES, propertyNames: plainLine(1, 64), additionalProperties: switchesIn },
        },
      },
      description: 'per app id: mute it, or switch one notification_type off per channel',
    },
    quiet_hours: quietHoursIn,
    email: {
      type: 'object',
      additionalProperties: false,
      properties: {
        address: { type: ['string', 'null'], maxLength: 254 },
        delay_seconds: { type: 'integer', minimum: 0, maximum: 86_400, description: 'how long a notification waits before it is emailed (urgent: at once)' },
        bouncing_since: { type: ['string', 'null'], readOnly: true, description: 'read-only: ignored when written' },
      },
    },
  },
} as const;

export const preferencesDocument = closed({
  channels: switchesOut,
  categories: closed(Object.fromEntries(NOTIFICATION_CATEGORIES.map((c) => [c, switchesOut]))),
  apps: {
    type: 'object',
    propertyNames: appId,
    additionalProperties: closed({ muted: { type: 'boolean' }, types: { type: 'object', additionalProperties: switchesOut } }),
  },
  quiet_hours: {
    oneOf: [{ type: 'null' }, closed({ start: { type: 'string' }, end: { type: 'string' }, timezone: { type: 'string' } })],
  },
  email: closed({
    address: { type: ['string', 'null'] },
    delay_seconds: { type: 'integer' },
    bouncing_since: {
      type: ['string', 'null'], format: 'date-time',
      description: 'the address refused mail permanently (SMTP 5xx) at this time: email is paused until the address changes',
    },
  }),
  updated_at: { type: ['string', 'null'], format: 'date-time', description: 'null until the user first saves' },
  revision: { type: 'integer', description: 'counts the saves (0: never saved); the ETag, for If-Match' },
});

export const preferencesResult = closed({ success: { const: true }, preferences: preferencesDocument });

export const preferencesParams = { type: 'object', required: ['userId'], properties: { userId } } as const;

export const preferencesExample = {
  channels: { in_app: true, email: true },
  categories: {
    security: { in_app: true, email: true }, system: { in_app: true, email: true },
    social: { in_app: true, email: false }, task: { in_app: true, email: true },
  },
  apps: { 'hugo-ai': { muted: true, types: {} }, 'work-buddy': { muted: false, types: { weekly_summary: { in_app: false, email: true } } } },
  quiet_hours: { start: '22:00', end: '07:00', timezone: 'Europe/Berlin' },
  email: { address: 'sam@example.com', delay_seconds: 300, bouncing_since: null },
  updated_at: '2026-12-01T10:00:00.000Z',
  revision: 3,
};
