// Verify a webhook request as the Standard Webhooks specification says (what the `standardwebhooks`
// and `svix` packages check): `webhook-signature` holds one or more space-separated `v1,<base64 of
// HMAC-SHA256("<webhook-id>.<webhook-timestamp>.<body>")>`, keyed with the base64 part of the
// `whsec_` secret; the timestamp must be within 5 minutes of now. While a secret rotates the service
// signs with both secrets, and a receiver mid-rotation may pass both of its own: any match accepts.
// Web Crypto only (globalThis.crypto), so it runs in browsers, Node 20+, Deno and workers.

export const WEBHOOK_TOLERANCE_SECONDS = 5 * 60;

/** The request's headers: a Headers object, or a plain object (Node's IncomingHttpHeaders). */
export type WebhookHeaders = Headers | Record<string, string | string[] | undefined>;

export class WebhookVerificationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WebhookVerificationError';
  }
}

function header(headers: WebhookHeaders, name: string): string | null {
  if (typeof (headers as Headers).get === 'function') return (headers as Headers).get(name);
  const record = headers as Record<string, string | string[] | undefined>;
  const value = record[name] ?? Object.entries(record).find(([key]) => key.toLowerCase() === name)?.[1];
  return Array.isArray(value) ? (value[0] ?? null) : (value ?? null);
}

function base64ToBytes(text: string): Uint8Array<ArrayBuffer> {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

function bytesToBase64(bytes: Uint8Array): string {
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}

/** Compares without stopping at the first difference. */
function equalInConstantTime(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

async function sign(secret: string, content: Uint8Array<ArrayBuffer>): Promise<string> {
  let keyBytes: Uint8Array<ArrayBuffer>;
  try {
    keyBytes = base64ToBytes(secret.startsWith('whsec_') ? secret.slice('whsec_'.length) : secret);
  } catch {
    throw new WebhookVerificationError('The secret is not a whsec_ secret (base64)');
  }
  const key = await crypto.subtle.importKey('raw', keyBytes, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  return bytesToBase64(new Uint8Array(await crypto.subtle.sign('HMAC', key, content)));
}

/**
 * The parsed JSON body when the request is authentic and recent; otherwise throws
 * WebhookVerificationError saying what was wrong. `body` is the raw request body, exactly as received
 * (a string or its bytes): parsing and re-serialising it first would change the signed bytes.
 */
export async function verifyWebhook(secret: string | readonly string[], headers: WebhookHeaders, body: string | Uint8Array, now: Date = new Date()): Promise<unknown> {
  const id = header(headers, 'webhook-id');
  const timestamp = header(headers, 'webhook-timestamp');
  const signatures = header(headers, 'webhook-signature');
  if (!id || !timestamp || !signatures) throw new WebhookVerificationError('Missing the webhook-id, webhook-timestamp or webhook-signature header');
  if (!/^\d{1,15}$/.test(timestamp)) throw new WebhookVerificationError('webhook-timestamp is not a Unix time in seconds');
  const age = Math.floor(now.getTime() / 1000) - Number(timestamp);
  if (age > WEBHOOK_TOLERANCE_SECONDS) throw new WebhookVerificationError('The message is too old (webhook-timestamp more than 5 minutes ago)');
  if (age < -WEBHOOK_TOLERANCE_SECONDS) throw new WebhookVerificationError('The message is from the future (webhook-timestamp more than 5 minutes ahead)');

  const bodyText = typeof body === 'string' ? body : new TextDecoder().decode(body);
  const content = new TextEncoder().encode(`${id}.${timestamp}.${bodyText}`);
  const offered = signatures.split(' ').filter((s) => s.startsWith('v1,')).map((s) => s.slice(3));
  for (const candidate of typeof secret === 'string' ? [secret] : secret) {
    const expected = await sign(candidate, content);
    if (offered.some((signature) => equalInConstantTime(signature, expected))) {
      try {
        return JSON.parse(bodyText) as unknown;
      } catch {
        throw new WebhookVerificationError('The body is not JSON');
      }
    }
  }
  throw new WebhookVerificationError('No matching signature');
}
