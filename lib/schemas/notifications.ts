import { appId, jsonObject, limitOffset, link, pagination, plainLine, plainText, timestamp, userId, uuid } from './common.js';

export const PRIORITIES = ['low', 'normal', 'high', 'urgent'] as const;
export const FEED_STATUSES = ['unread', 'read', 'clicked', 'dismissed'] as const;

export const notificationCreate = {
  type: 'object',
  additionalProperties: false,
  required: ['external_id', 'user_id', 'notification_type', 'title', 'body'],
  properties: {
    external_id: plainLine(1, 255),
    user_id: userId,
    notification_type: plainLine(1, 64),
    title: plainLine(1, 200),
    body: plainText(1, 1000),
    action_url: link,
    action_label: plainLine(1, 100),
    image_url: link,
    icon_url: link,
    priority: { enum: PRIORITIES, default: 'normal' },
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
  context_data: { session_id: 'session_789', partner_name: 'Sarah' },
  expires_at: '2030-09-30T12:00:00Z',
};

export const notificationCreated = {
  type: 'object',
  required: ['success', 'notification_id', 'created_at'],
  properties: { success: { const: true }, notification_id: uuid, created_at: timestamp },
} as const;

export const BATCH_MAX = 100;

export const notificationBatch = {
  type: 'object',
  additionalProperties: false,
  required: ['notifications'],
  properties: {
    notifications: { type: 'array', minItems: 1, maxItems: BATCH_MAX, items: { type: 'object' } },
  },
} as const;

export const notificationBatchResult = {
  type: 'object',
  required: ['success', 'created', 'failed', 'results'],
  properties: {
    success: { type: 'boolean', description: 'true when every item was created' },
    created: { type: 'integer' },
    failed: { type: 'integer' },
    results: {
      type: 'array',
      items: {
        type: 'object',
        required: ['index', 'success', 'status'],
        properties: {
          index: { type: 'integer' },
          success: { type: 'boolean' },
          status: { type: 'integer', examples: [201, 400, 409] },
          notification_id: uuid,
          external_id: { type: 'string' },
          created_at: timestamp,
          error: { type: 'object', properties: { code: { type: 'string' }, message: { type: 'string' }, details: {} } },
        },
      },
    },
  },
} as const;

export const feedQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    status: { enum: FEED_STATUSES, description: 'default: unread, read and clicked (dismissed and expired are hidden)' },
    app_id: appId,
    ...limitOffset(100, 50),
  },
} as const;

export const feedItem = {
  type: 'object',
  properties: {
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
    status: { enum: FEED_STATUSES },
    context_data: { type: 'object' },
    expires_at: { type: ['string', 'null'], format: 'date-time' },
    created_at: timestamp,
    updated_at: timestamp,
  },
} as const;

export const feed = {
  type: 'object',
  required: ['success', 'notifications', 'unread_count', 'pagination'],
  properties: {
    success: { const: true },
    notifications: { type: 'array', items: feedItem },
    unread_count: { type: 'integer', description: 'unread, unexpired notifications (of app_id when given); exact' },
    pagination,
  },
} as const;

export const stateChange = {
  type: 'object',
  additionalProperties: false,
  required: ['status'],
  properties: {
    status: { enum: ['read', 'unread', 'clicked', 'dismissed'] },
    dismissed_from: { type: 'string', pattern: '^[A-Za-z0-9_.:-]{1,64}$', examples: ['oriva_core'] },
    click_action: plainLine(1, 255),
  },
} as const;

export const stateChanged = {
  type: 'object',
  required: ['success', 'notification_id', 'status', 'updated_at', 'changed'],
  properties: {
    success: { const: true },
    notification_id: uuid,
    status: { enum: FEED_STATUSES },
    previous_status: { enum: FEED_STATUSES },
    changed: { type: 'boolean', description: 'false when the notification already had this status' },
    updated_at: timestamp,
  },
} as const;

export const readAll = {
  type: 'object',
  additionalProperties: false,
  properties: { app_id: appId },
} as const;

export const readAllResult = {
  type: 'object',
  required: ['success', 'updated', 'unread_count'],
  properties: { success: { const: true }, updated: { type: 'integer' }, unread_count: { type: 'integer' } },
} as const;
