import { EVENT_PATTERN, RESERVED_EVENT_CATEGORIES } from '../events.js';
import { appId, appJsonOut, closed, jsonObject, limitOffset, pagination, timestamp, userId, uuid } from './common.js';

const name = { type: 'string', pattern: '^[a-z][a-z0-9_]{0,63}$' } as const;

export const eventCreate = {
  type: 'object',
  additionalProperties: false,
  required: ['event_category', 'event_type', 'entity_type', 'entity_id', 'user_id'],
  properties: {
    event_category: { ...name, description: `Reserved for the platform's own events (refused with 400 reserved_category): ${RESERVED_EVENT_CATEGORIES.join(', ')}` },
    event_type: name,
    entity_type: { type: 'string', minLength: 1, maxLength: 64 },
    entity_id: { type: 'string', minLength: 1, maxLength: 255 },
    user_id: userId,
    event_data: { ...jsonObject, description: `${jsonObject.description} Its \`source\` key is set by the platform (the publishing app's id); a value sent by the app is replaced.` },
  },
} as const;

export const eventCreateExample = {
  event_category: 'session',
  event_type: 'started',
  entity_type: 'session',
  entity_id: 'session_789',
  user_id: 'user_456',
  event_data: { minutes: 30, partner_name: 'Sarah' },
};

export const eventCreated = closed({ success: { const: true }, event_id: uuid, seq: { type: 'integer' }, timestamp });

export const eventQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    event_category: name,
    event_type: name,
    user_id: userId,
    entity_id: { type: 'string', minLength: 1, maxLength: 255 },
    start_date: timestamp,
    end_date: timestamp,
    ...limitOffset(500, 100),
  },
} as const;

/** The one shape of an event on every transport (lib/events.ts EventMessage). */
export const eventMessage = {
  seq: { type: 'integer', description: 'monotonic (not dense): the resume cursor of every transport' },
  event_id: uuid,
  event_category: name,
  event_type: name,
  entity_type: { type: 'string' },
  entity_id: { type: 'string' },
  user_id: { type: ['string', 'null'], pattern: userId.pattern, description: 'the user it is about; null for a broadcast.* event (about an audience)' },
  app_id: appId,
  event_data: appJsonOut,
  timestamp,
} as const;

export const event = closed({ id: { ...uuid, description: 'the same as event_id (kept for clients of the first version)' }, ...eventMessage });

export const eventList = closed({ success: { const: true }, events: { type: 'array', items: event }, pagination });

export const eventPattern = { type: 'string', pattern: EVENT_PATTERN.source, examples: ['notification.*'] } as const;
