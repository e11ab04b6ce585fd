// The event types the platform emits, with the JSON Schema of each one's event_data: one catalog for
// GET /api/v1/event-types and the `webhooks` section of /openapi.json. (Apps' own categories carry
// their own event_data; every event's `source` is set by the platform.)
import { appId, appJsonOut, closed, nullableTimestamp, timestamp, userId, uuid } from './common.js';
import { eventMessage } from './events.js';
import { NOTIFICATION_STATUSES, TRANSITIONS } from '../notification-states.js';
import { NOTIFICATION_CATEGORIES, PRIORITIES, suppressedChannels } from './notifications.js';
import { audience } from './audiences.js';

const source = { type: 'string', description: 'who caused it: the app id, oriva_core, oriva_worker, or where it was dismissed' } as const;
const nullable = (type: string) => ({ type: [type, 'null'] }) as const;

/** The routing step's decision for the email channel (DESIGN §10). */
const emailRoute = {
  ...closed({
    decision: { enum: ['deliver', 'skip', 'suppress'] },
    reason: { type: 'string', description: 'deliver: digest; skip: no_address or bouncing; suppress: muted_app, type_off, category_off or channel_off' },
  }),
  description: "the email channel: in the user's next digest, skipped, or switched off by their preferences",
} as const;

const createdNotification = closed({
  id: uuid, app_id: appId, app_name: { type: 'string' }, app_icon: nullable('string'), external_id: { type: 'string' }, user_id: userId,
  notification_type: { type: 'string' }, category: { enum: NOTIFICATION_CATEGORIES }, title: { type: 'string' }, body: { type: 'string' }, action_url: nullable('string'),
  action_label: nullable('string'), image_url: nullable('string'), icon_url: nullable('string'), context_data: appJsonOut,
  priority: { enum: PRIORITIES }, status: { const: 'unread' }, expires_at: nullableTimestamp, created_at: timestamp,
});

/** A broadcast's audience and when it was sent (every broadcast.* event carries it). */
const broadcastInfo = closed({ id: uuid, sent_at: timestamp, audience });
const broadcastKind = closed({ notification_type: { type: 'string' }, category: { enum: NOTIFICATION_CATEGORIES } });

const stateChange = (status: string, extra: Record<string, unknown> = {}, optional: string[] = []) =>
  closed({
    source, notification_id: uuid, external_id: { type: 'string' }, status: { const: status },
    previous_status: { enum: NOTIFICATION_STATUSES.filter((s) => TRANSITIONS[s].length > 0) }, ...extra,
  }, optional);

export interface EventTypeInfo {
  name: string;
  description: string;
  /** JSON Schema of event_data. */
  data: Record<string, unknown>;
}

/** The attempts a webhook.failing / webhook.recovered judged: the window's length and its counts. */
const webhookWindow = closed({ minutes: { type: 'integer' }, attempts: { type: 'integer' }, failed: { type: 'integer' } });

const bulk = { bulk: { const: true, description: 'set when it came from mark-all-read' } };

export const PLATFORM_EVENT_TYPES: readonly EventTypeInfo[] = [
  { name: 'notification.created', description: 'A notification was created; carries the whole notification (what the feed shows) and the channels the user\'s preferences suppressed. With in_app suppressed it reaches the app, not the user\'s live connections.', data: closed({ source, notification: createdNotification, suppressed: suppressedChannels, email: emailRoute }) },
  { name: 'notification.read', description: 'Marked read (one, or all of a user\'s with bulk: true).', data: stateChange('read', bulk, ['bulk']) },
  { name: 'notification.unread', description: 'Marked unread again.', data: stateChange('unread') },
  { name: 'notification.clicked', description: 'Opened (its action followed).', data: stateChange('clicked', { click_action: { type: 'string' } }, ['click_action']) },
  { name: 'notification.dismissed', description: 'Dismissed — for this user, everywhere.', data: stateChange('dismissed', { dismissed_from: { type: 'string' } }, ['dismissed_from']) },
  { name: 'notification.expired', description: 'Its expires_at passed; it left every feed.', data: stateChange('expired') },
  { name: 'app.installed', description: 'The user installed the app: it may now reach them.', data: closed({ source, app_id: appId, user_id: userId, installed_at: timestamp }) },
  { name: 'app.uninstalled', description: 'The user uninstalled the app: nothing new from it reaches them.', data: closed({ source, app_id: appId, user_id: userId }) },
  { name: 'notification.deleted', description: 'Deleted by the app that created it.', data: closed({ source, notification_id: uuid, external_id: { type: 'string' } }) },
  { name: 'broadcast.sent', description: 'A broadcast was sent to a topic or to every user: one event (user_id null), not one per recipient. Carries the audience and the notification; each recipient\'s live connections get it too. Recipients\' state changes are the usual notification.* events.', data: closed({ source, broadcast: broadcastInfo, notification: { ...createdNotification, properties: { ...createdNotification.properties, user_id: { type: 'null' } } } }) },
  { name: 'broadcast.retracted', description: 'The app retracted a broadcast: it left every feed.', data: closed({ source, notification_id: uuid, external_id: { type: 'string' }, broadcast: broadcastInfo, notification: broadcastKind }) },
  { name: 'broadcast.expired', description: 'A broadcast\'s expires_at passed: it left every feed.', data: closed({ source, notification_id: uuid, external_id: { type: 'string' }, broadcast: broadcastInfo, notification: broadcastKind }) },
  { name: 'webhook.failing', description: 'One of the app\'s webhooks failed more than 10% of at least 20 attempts in the last 15 minutes: once per episode, not per attempt. user_id is null; not sent to the failing webhook itself.', data: closed({ source, webhook_id: uuid, url: { type: 'string' }, window: webhookWindow, last_error: nullable('string') }) },
  { name: 'webhook.recovered', description: 'A failing webhook is healthy again: its last 15 minutes hold only successes, or at least 20 attempts with at most 10% failed.', data: closed({ source, webhook_id: uuid, url: { type: 'string' }, window: webhookWindow, last_error: nullable('string') }) },
  { name: 'webhook.disabled', description: 'Delivery to one of the app\'s webhooks stopped (410 Gone, or too many failures in a row); re-enable it with PATCH is_active: true.', data: closed({ source, webhook_id: uuid, url: { type: 'string' }, reason: { type: 'string' } }) },
];

/** A webhook request body for this event type: the Standard Webhooks envelope around the event. */
export function webhookPayload(info: EventTypeInfo): Record<string, unknown> {
  return closed({
    type: { const: info.name },
    timestamp,
    data: closed({ ...eventMessage, event_data: info.data }),
  });
}

export const eventTypeList = closed({
  success: { const: true },
  event_types: {
    type: 'array',
    items: closed({ name: { type: 'string' }, description: { type: 'string' }, data: { type: 'object', description: 'JSON Schema (2020-12) of event_data' } }),
  },
});
