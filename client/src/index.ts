// @oriva/client: what an app or Oriva Core needs on its side of the service. No runtime
// dependencies; ES2022 modules for browsers and Node 20+.
export { verifyWebhook, WebhookVerificationError, WEBHOOK_TOLERANCE_SECONDS, type WebhookHeaders } from './webhooks.js';
export { subscribe, tokenExpiry, type LiveEvent, type LiveGap, type LiveStatus, type SubscribeOptions, type Subscription, type WebSocketConstructor } from './live.js';
