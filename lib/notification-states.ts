// A notification's states for its user, and the moves between them: the TypeScript side of the
// oriva.notification_status domain and the oriva.notification_transitions table (migration 000008).
// test/db/definitions.test.ts fails when the two sides, or the page's feed model, drift apart.

export const NOTIFICATION_STATUSES = ['unread', 'read', 'clicked', 'dismissed', 'expired'] as const;
export type NotificationStatus = (typeof NOTIFICATION_STATUSES)[number];

/** The moves each state allows. Users and apps ask for theirs (PATCH); expiry is the worker's. */
export const TRANSITIONS: Readonly<Record<NotificationStatus, readonly NotificationStatus[]>> = {
  unread: ['read', 'clicked', 'dismissed', 'expired'],
  read: ['unread', 'clicked', 'dismissed', 'expired'],
  clicked: ['dismissed', 'expired'],
  dismissed: ['expired'],
  expired: [],
};

/** What a PATCH may ask for: every state a move leads to, except the worker's `expired`. */
export const REQUESTABLE_STATUSES = ['read', 'unread', 'clicked', 'dismissed'] as const satisfies readonly NotificationStatus[];

/** States a feed can be filtered by (GET ?status=); a feed item is always in one of them. */
export const LISTABLE_STATUSES = ['unread', 'read', 'clicked', 'dismissed'] as const satisfies readonly NotificationStatus[];

/** What the feed shows when no status is asked for (oriva.in_feed); the page hides the others. */
export const IN_FEED_STATUSES = ['unread', 'read', 'clicked'] as const satisfies readonly NotificationStatus[];
