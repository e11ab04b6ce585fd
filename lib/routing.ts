// The routing step's vocabulary (the step itself is oriva.route_notifications, called by
// sql/notifications/create.sql in the write transaction — see the README's Architecture). For each
// notification and recipient, one route per channel: deliver it there, or not, and why.
// test/db/definitions.test.ts fails when these lists and the SQL function drift apart.

/** in_app: the feed, the unread count and the stream. webhook: the owner app's webhooks. */
export const CHANNELS = ['in_app', 'webhook'] as const;
export type Channel = (typeof CHANNELS)[number];

/**
 * Why a channel delivers, skips, or refuses. A refusal comes from a rule about the recipient
 * (oriva.app_may_reach: the installation rule) and refuses every channel: nothing is written.
 * Part two adds its rules' reasons (muted, quiet_hours…).
 */
export const ROUTE_REASONS = {
  deliver: ['default', 'subscribed'],
  skip: ['no_subscribed_webhook'],
  refuse: ['not_installed'],
} as const;

export type RefusalReason = (typeof ROUTE_REASONS.refuse)[number];

export type Route =
  | { channel: Channel; decision: 'deliver'; reason: (typeof ROUTE_REASONS.deliver)[number] }
  | { channel: Channel; decision: 'skip'; reason: (typeof ROUTE_REASONS.skip)[number] }
  | { channel: Channel; decision: 'refuse'; reason: RefusalReason };
