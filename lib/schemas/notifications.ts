import { LISTABLE_STATUSES, REQUESTABLE_STATUSES } from '../notification-states.js';
import { SUPPRESSION_REASONS } from '../routing.js';
import { appId, appJsonOut, closed, countedPagination, nullableTimestamp, jsonObject, limitOffset, link, plainLine, plainText, timestamp, userId, uuid } from './common.js';

export const PRIORITIES = ['low', 'normal', 'high', 'urgent'] as const;
/** A notification's category (DESIGN §9); the domain oriva.notification_category in SQL. */
export const NOTIFICATION_CATEGORIES = ['security', 'system', 'social', 'task'] as const;
export type NotificationCategory = (typeof NOTIFICATION_CATEGORIES)[number];

const category = { enum: NOTIFICATION_CATEGORIES, description: 'the user switches categories on and off per channel in their preferences; security cannot be switched off in the feed' } as const;

/** The channels the user's preferences switched off for a created notification (empty: none). */
export const suppressedChannels = {
  type: 'array',
  description: 'the channels the user\'s preferences switched off for this notification, and why; in_app suppressed: stored, but not in the user\'s feed, count or stream; email suppressed: never emailed',
  items: closed({ channel: { enum: ['in_app', 'email'] }, reason: { enum: SUPPRESSION_REASONS } }),
} as const;

export const notificationCreate = {
  type: 'object',
  additionalProperties: false,
  required: ['external_id', 'user_id', 'notification_type'],
  description: 'title and body, or template_data (the app\'s template for notification_type renders them)',
  properties: {
    external_id: plainLine(1, 255),
    user_id: userId,
    notification_type: plainLine(1, 64),
    title: { ...plainLine(1, 200), description: 'required unless template_data is given' },
    body: { ...plainText(1, 1000), description: 'required unless template_data is given' },
    template_data: { ...jsonObject, description: 'instead of title and body: the variables of the app\'s template for this notification_type (PUT /apps/:appId/templates/:notificationType); a missing variable is a 400 naming it' },
    action_url: link,
    action_label: plainLine(1, 100),
    image_url: link,
    icon_url: link,
    priority: { enum: PRIORITIES, default: 'normal' },
    category: { ...category, default: 'system' },
    context_data: jsonObject,
    expires_at: { ...timestamp, description: 'must be in the future; the notification leaves every feed then' },
  },
} as const;

export const notificationCreateExample = {
  external_id: 'wb_notif_123',
  user_id: 'user_456',
  notification_type: 'session_reminder',
  title: 'Session starting in 10 minutes',
  body: 'Your session with Sarah starts soon',
  action_url: 'workbuddy://session/789',
  action_label: 'View Session',
  priority: 'high',
  category: 'task',
  context_data: { session_id: 'session_789', partner_name: 'Sarah' },
  expires_at: '2030-09-30T12:00:00Z',
};

export const notificationCreated = closed({ success: { const: true }, notification_id: uuid, created_at: timestamp, suppressed: suppressedChannels });

export const BATCH_MAX = 100;

/** As documented: each item is a notification to create. */
export const notificationBatch = {
  type: 'object',
  additionalProperties: false,
  required: ['notifications'],
  properties: {
    notifications: { type: 'array', minItems: 1, maxItems: BATCH_MAX, items: notificationCreate, description: 'each item is checked on its own: a bad item fails alone, and its result says why' },
  },
} as const;

/** As validated up front: the envelope only; the handler checks each item so that a bad one fails alone. */
export const notificationBatchEnvelope = {
  ...notificationBatch,
  properties: { notifications: { type: 'array', minItems: 1, maxItems: BATCH_MAX, items: { type: 'object' } } },
} as const;

const itemError = closed({ code: { type: 'string' }, message: { type: 'string' }, details: {} }, ['details']);

export const notificationBatchResult = closed({
  success: { type: 'boolean', description: 'true when every item was created' },
  created: { type: 'integer' },
  failed: { type: 'integer' },
  results: {
    type: 'array',
    items: {
      oneOf: [
        closed({ index: { type: 'integer' }, success: { const: true }, status: { const: 201 }, notification_id: uuid, external_id: { type: 'string' }, created_at: timestamp, suppressed: suppressedChannels }),
        closed({ index: { type: 'integer' }, success: { const: false }, status: { enum: [400, 403, 409] }, external_id: { type: 'string', description: 'on a 403 or 409: the item\'s external_id' }, error: itemError }, ['external_id']),
      ],
    },
  },
});

export const feedQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    status: { enum: LISTABLE_STATUSES, description: 'default: unread, read and clicked (dismissed and expired are hidden)' },
    app_id: appId,
    category,
    notification_type: plainLine(1, 64),
    ...limitOffset(100, 50),
  },
} as const;

export const feedItem = closed({
    id: uuid,
    app_id: appId,
    app_name: { type: 'string' },
    app_icon: { type: ['string', 'null'] },
    external_id: { type: 'string' },
    user_id: userId,
    notification_type: { type: 'string' },
    title: { type: 'string' },
    body: { type: 'string' },
    action_url: { type: ['string', 'null'] },
    action_label: { type: ['string', 'null'] },
    image_url: { type: ['string', 'null'] },
    icon_url: { type: ['string', 'null'] },
    priority: { enum: PRIORITIES },
    category: { enum: NOTIFICATION_CATEGORIES },
    status: { enum: LISTABLE_STATUSES },
    context_data: appJsonOut,
    expires_at: nullableTimestamp,
    created_at: timestamp,
    updated_at: timestamp,
    read_at: { ...nullableTimestamp, description: 'when it was first read (or clicked)' },
    clicked_at: nullableTimestamp,
    dismissed_at: nullableTimestamp,
    dismissed_from: { type: ['string', 'null'], description: 'where it was dismissed (e.g. oriva_core)' },
    click_action: { type: ['string', 'null'] },
});

export const feed = closed({
  success: { const: true },
  notifications: { type: 'array', items: feedItem },
  unread_count: { type: 'integer', description: 'unread, unexpired notifications (of the filters app_id, category and notification_type when given); exact' },
  pagination: countedPagination,
});

export const stateChange = {
  type: 'object',
  additionalProperties: false,
  required: ['status'],
  properties: {
    status: { enum: REQUESTABLE_STATUSES },
    dismissed_from: { type: 'string', pattern: '^[A-Za-z0-9_.:-]{1,64}$', examples: ['oriva_core'] },
    click_action: plainLine(1, 255),
  },
} as const;

export const stateChanged = closed({
  success: { const: true },
  notification_id: uuid,
  status: { enum: LISTABLE_STATUSES },
  previous_status: { enum: LISTABLE_STATUSES },
  changed: { type: 'boolean', description: 'false when the notification already had this status' },
  updated_at: timestamp,
});

export const readAll = {
  type: 'object',
  additionalProperties: false,
  properties: { app_id: appId },
} as const;

export const readAllResult = closed({ success: { const: true }, updated: { type: 'integer' }, unread_count: { type: 'integer' } });
