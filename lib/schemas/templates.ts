// Notification templates (DESIGN §10): Liquid sources per app and notification_type.
import { closed, plainText, timestamp } from './common.js';

const source = (maxLength: number, what: string) => ({ ...plainText(1, maxLength), description: `${what} (Liquid; strict variables)` });

export const templateWrite = {
  type: 'object',
  additionalProperties: false,
  required: ['title', 'body'],
  properties: {
    title: source(2000, 'the notification title, plain text'),
    body: source(4000, 'the notification body, plain text'),
    email_subject: { ...source(2000, 'the subject when this notification is emailed on its own, plain text'), type: ['string', 'null'] },
    email_body: { ...source(20_000, 'the HTML of the email when this notification is emailed on its own; every output is HTML-escaped'), type: ['string', 'null'] },
  },
} as const;

export const templateExample = {
  title: 'Session with {{ partner }} in {{ minutes }} minutes',
  body: 'Your {{ kind }} session starts at {{ starts_at }}.',
  email_subject: 'Your session with {{ partner }}',
  email_body: '<p>Hi {{ user_name }}, your session with <b>{{ partner }}</b> starts at {{ starts_at }}.</p>',
};

export const templateOut = closed({
  notification_type: { type: 'string' },
  title: { type: 'string' },
  body: { type: 'string' },
  email_subject: { type: ['string', 'null'] },
  email_body: { type: ['string', 'null'] },
  created_at: timestamp,
  updated_at: timestamp,
});

export const templateResult = closed({ success: { const: true }, template: templateOut });
