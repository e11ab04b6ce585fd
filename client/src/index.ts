// @oriva/client: what an app or Oriva Core needs on its side of the service. No runtime
// dependencies; ES2022 modules for browsers and Node 20+.
export { createClient, OrivaApiError, type CallArgs, type CallResult, type ClientOptions, type OperationId, type OrivaClient } from './rest.js';
export type { components, operations, paths } from './generated/openapi.js';
export { verifyWebhook, WebhookVerificationError, WEBHOOK_TOLERANCE_SECONDS, type WebhookHeaders } from './webhooks.js';
export { subscribe, tokenExpiry, type LiveEvent, type LiveGap, type LiveStatus, type SubscribeOptions, type Subscription, type WebSocketConstructor } from './live.js';
export { FeedStore, compareNotifications, HIDDEN_STATUSES, STATUS_OF_EVENT, type FeedChange, type FeedNotification, type FeedPage, type FeedSnapshot, type FeedStoreOptions, type NotificationStatus } from './feed.js';
