// Topics and broadcasts (DESIGN §11): request and response schemas.
import { appId, closed, nullableTimestamp, timestamp, userId, uuid, appJsonOut } from './common.js';
import { NOTIFICATION_CATEGORIES, notificationCreate, PRIORITIES } from './notifications.js';

export const TOPIC_PATTERN = '^[a-z0-9][a-z0-9_.:-]{0,63}$';
export const topic = { type: 'string', pattern: TOPIC_PATTERN, description: 'lower-case letters, digits, and _ . : - (1–64, starting with a letter or digit)', examples: ['beta'] } as const;
export const SUBSCRIBERS_MAX = 1000;

export const topicParams = { type: 'object', required: ['appId', 'topic'], properties: { appId, topic } } as const;

export const subscribersChange = {
  type: 'object',
  additionalProperties: false,
  required: ['user_ids'],
  properties: { user_ids: { type: 'array', minItems: 1, maxItems: SUBSCRIBERS_MAX, items: userId, description: `up to ${SUBSCRIBERS_MAX} user ids` } },
} as const;

export const subscribersAdded = closed({ success: { const: true }, added: { type: 'integer', description: 'users who were not members before' } });
export const subscribersRemoved = closed({ success: { const: true }, removed: { type: 'integer', description: 'users who were members' } });

export const subscribersQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
    cursor: { type: 'string', maxLength: 512, description: 'next_cursor of the previous page' },
  },
} as const;

export const subscriberList = closed({
  success: { const: true },
  subscribers: { type: 'array', items: closed({ user_id: userId, subscribed_at: timestamp }) },
  next_cursor: { type: ['string', 'null'] },
});

/** Who a broadcast is for: a topic of the app, or every user the system knows. */
export const audience = {
  oneOf: [
    closed({ topic }),
    closed({ all: { const: true, description: 'every user the system knows (platform apps only)' } }),
  ],
  description: '{"topic": "<name>"} or {"all": true}',
} as const;

/** A broadcast request: a single create's fields without user_id, plus the audience. */
const { user_id: _user, ...notificationFields } = notificationCreate.properties;
export const broadcastCreate = {
  type: 'object',
  additionalProperties: false,
  required: ['external_id', 'notification_type', 'audience'],
  description: 'title and body, or template_data; audience: a topic of the app, or (platform apps only) every user',
  properties: {
    ...notificationFields,
    audience,
  },
} as const;

export const broadcastSent = closed({ success: { const: true }, broadcast_id: uuid, sent_at: timestamp });

const broadcastFields = {
  id: uuid, external_id: { type: 'string' }, audience, notification_type: { type: 'string' },
  category: { enum: NOTIFICATION_CATEGORIES }, title: { type: 'string' }, body: { type: 'string' },
  priority: { enum: PRIORITIES }, expires_at: nullableTimestamp, sent_at: timestamp,
};

export const broadcastSummary = closed(broadcastFields);

export const broadcastFigures = closed({
  recipients: { type: 'integer', description: 'the audience when it was sent' },
  suppressed: { type: 'integer', description: 'recipients whose preferences keep it out of their feed' },
  delivered: { type: 'integer', description: 'recipients minus suppressed: in their feed' },
  read: { type: 'integer', description: 'recipients who read or clicked it' },
  clicked: { type: 'integer' },
  dismissed: { type: 'integer' },
});

export const broadcastDetail = closed({
  success: { const: true },
  broadcast: closed({
    ...broadcastFields,
    action_url: { type: ['string', 'null'] }, action_label: { type: ['string', 'null'] },
    image_url: { type: ['string', 'null'] }, icon_url: { type: ['string', 'null'] }, context_data: appJsonOut,
    figures: broadcastFigures,
  }),
});

export const broadcastList = closed({
  success: { const: true },
  broadcasts: { type: 'array', items: broadcastSummary },
  next_cursor: { type: ['string', 'null'] },
});

export const broadcastParams = { type: 'object', required: ['appId', 'id'], properties: { appId, id: { ...uuid, description: 'the broadcast id' } } } as const;
