// The routing step's vocabulary (the step itself is oriva.route_notifications, called by
// sql/notifications/create.sql in the write transaction — see the README's Architecture). For each
// notification and recipient, one route per channel: deliver it there, or not, and why.
// test/db/definitions.test.ts fails when these lists and the SQL function drift apart.

/**
 * in_app: the feed, the unread count and the stream. email: the user's digest (worker/email).
 * webhook: the owner app's webhooks.
 */
export const CHANNELS = ['in_app', 'email', 'webhook'] as const;
export type Channel = (typeof CHANNELS)[number];

/**
 * Why the user's preferences switch a channel off (oriva.preference_suppression), the most specific
 * first: the app is muted, its notification_type is off, the category is off, the channel is off.
 */
export const SUPPRESSION_REASONS = ['muted_app', 'type_off', 'category_off', 'channel_off'] as const;
export type SuppressionReason = (typeof SUPPRESSION_REASONS)[number];

/**
 * Why a channel delivers, skips, is suppressed, or refuses. A refusal comes from a rule about the
 * recipient (oriva.app_reachable_users: the installation rule) and refuses every channel: nothing is
 * written. A suppression comes from the user's preferences: the notification is stored, but not
 * delivered on that channel (in_app: no feed entry, no count, nothing on the user's stream).
 */
export const ROUTE_REASONS = {
  deliver: ['default', 'digest', 'subscribed'],
  skip: ['no_address', 'bouncing', 'no_subscribed_webhook'],
  suppress: SUPPRESSION_REASONS,
  refuse: ['not_installed'],
} as const;

export type RefusalReason = (typeof ROUTE_REASONS.refuse)[number];

export type Route =
  | { channel: Channel; decision: 'deliver'; reason: (typeof ROUTE_REASONS.deliver)[number] }
  | { channel: Channel; decision: 'skip'; reason: (typeof ROUTE_REASONS.skip)[number] }
  | { channel: Channel; decision: 'suppress'; reason: SuppressionReason }
  | { channel: Channel; decision: 'refuse'; reason: RefusalReason };
