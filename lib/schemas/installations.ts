// Installations: which apps a user lets reach them (issue 13).
import { appId, closed, timestamp, userId } from './common.js';

export const installationParams = {
  type: 'object',
  required: ['userId', 'appId'],
  properties: { userId, appId },
} as const;

export const installedApp = closed({
  app_id: appId,
  app_name: { type: 'string' },
  app_icon: { type: ['string', 'null'] },
  installed_at: timestamp,
});

export const installationResult = closed({ success: { const: true }, installation: installedApp });

export const installedAppList = closed({ success: { const: true }, apps: { type: 'array', items: installedApp } });

export const installationQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
    cursor: { type: 'string', maxLength: 200, description: 'next_cursor of the previous page' },
  },
} as const;

export const installationList = closed({
  success: { const: true },
  installations: { type: 'array', items: closed({ user_id: userId, installed_at: timestamp }) },
  next_cursor: { type: ['string', 'null'] },
});
