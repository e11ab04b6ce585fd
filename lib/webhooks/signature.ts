// Webhook signatures.
//
// Standard Webhooks (https://www.standardwebhooks.com): headers `webhook-id`, `webhook-timestamp`
// (Unix seconds of this attempt) and `webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">`,
// keyed with the base64-decoded part of the secret after `whsec_`. While a rotated-out secret is
// still valid, its signature follows the current one, space-separated.
//
// `X-Oriva-Signature: sha256=<hex HMAC-SHA256 of the raw body>` (the seed's header), keyed with the
// current secret string exactly as the API returned it (`whsec_…` included), so a receiver written
// against the seed (`createHmac('sha256', webhookSecret).update(rawBody)`) can verify it. It carries
// no timestamp, so it does not protect against replays: receivers should prefer the Standard
// Webhooks signature.
import { createHmac } from 'node:crypto';

const SECRET_PREFIX = 'whsec_';

/** The HMAC key of a `whsec_<base64>` secret (a secret without the prefix is taken as base64 too). */
export function signingKey(secret: string): Buffer {
  return Buffer.from(secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret, 'base64');
}

/** `v1,<base64>` for one secret. */
export function standardSignature(secret: string, id: string, timestamp: number, body: string): string {
  const mac = createHmac('sha256', signingKey(secret)).update(`${id}.${timestamp}.${body}`).digest('base64');
  return `v1,${mac}`;
}

/** `sha256=<hex>` of the body, keyed with the secret string. */
export function orivaSignature(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

export interface SigningSecrets {
  current: string;
  /** Still signs (second signature) until it expires. */
  previous?: string | null;
  previousExpiresAt?: Date | string | null;
}

/** Every header that signs one attempt of one delivery. */
export function signatureHeaders(secrets: SigningSecrets, id: string, timestamp: number, body: string, now = Date.now()): Record<string, string> {
  const signatures = [standardSignature(secrets.current, id, timestamp, body)];
  const previousValid = secrets.previous && secrets.previousExpiresAt && new Date(secrets.previousExpiresAt).getTime() > now;
  if (previousValid && secrets.previous) signatures.push(standardSignature(secrets.previous, id, timestamp, body));
  return {
    'webhook-id': id,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': signatures.join(' '),
    'x-oriva-signature': orivaSignature(secrets.current, body),
  };
}
