import { createHash, randomBytes } from 'node:crypto';

export const API_KEY_PREFIX = 'oriva_sk_';

export function generateApiKey(): string {
  return API_KEY_PREFIX + randomBytes(24).toString('base64url');
}

/** Keys are stored only as this digest. */
export function hashApiKey(key: string): Buffer {
  return createHash('sha256').update(key).digest();
}

/** What may be shown later to tell keys apart: the scheme and four characters. */
export function displayPrefix(key: string): string {
  return key.slice(0, API_KEY_PREFIX.length + 4);
}
