/**
 * The suite's SECRETS_KEY (lib/secrets.ts): every process a test runs — in-process or a child —
 * uses it, so a secret one encrypts another can read, and no test reads a developer's .data key file.
 */
export const TEST_SECRETS_KEY = `test:${Buffer.from('oriva-test-only-key-for-the-suite').subarray(0, 32).toString('base64')}`;
