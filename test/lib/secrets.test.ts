// Webhook secrets at rest: AES-256-GCM under SECRETS_KEY's first key, any listed key decrypts,
// bound to the app, with clear errors for a key that is not configured or does not fit.
import t from 'tap';
import { decryptSecret, encryptSecret, generateSecretsKey, isCurrent, parseSecretsKey, remembering, SecretsKeyError } from '../../lib/secrets.js';

const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const oldKey = generateSecretsKey('old');
const newKey = generateSecretsKey('new');

t.test('round trip; the stored value names its key and holds no plaintext', async (t) => {
  const ring = parseSecretsKey(oldKey);
  const stored = encryptSecret(ring, secret, 'work-buddy');
  t.match(stored, /^enc:v1:old:[A-Za-z0-9+/]+=*$/);
  t.notOk(stored.includes(secret) || stored.includes(secret.slice(6)), 'no plaintext in it');
  t.not(encryptSecret(ring, secret, 'work-buddy'), stored, 'a fresh IV every time');
  t.equal(decryptSecret(ring, stored, 'work-buddy'), secret);
  t.ok(isCurrent(ring, stored));
});

t.test("bound to its app: another app's row does not decrypt it", async (t) => {
  const ring = parseSecretsKey(oldKey);
  const stored = encryptSecret(ring, secret, 'work-buddy');
  t.throws(() => decryptSecret(ring, stored, 'hugo-ai'), { constructor: SecretsKeyError, message: 'the webhook secret does not decrypt with key "old" (a different key under the same id?)' });
});

t.test('rotation: new key first encrypts, the old one still decrypts; without it, a clear error', async (t) => {
  const before = encryptSecret(parseSecretsKey(oldKey), secret, 'a');
  const both = parseSecretsKey(`${newKey},${oldKey}`);
  t.equal(both.primaryId, 'new');
  t.equal(decryptSecret(both, before, 'a'), secret, 'the old ciphertext still decrypts');
  t.notOk(isCurrent(both, before), 'and is due for re-encryption');
  const after = encryptSecret(both, secret, 'a');
  t.match(after, /^enc:v1:new:/);
  const onlyNew = parseSecretsKey(newKey);
  t.equal(decryptSecret(onlyNew, after, 'a'), secret);
  t.throws(() => decryptSecret(onlyNew, before, 'a'), { constructor: SecretsKeyError, message: 'the webhook secret is encrypted with key "old", which SECRETS_KEY does not list' });
  const impostor = parseSecretsKey(generateSecretsKey('old'));
  t.throws(() => decryptSecret(impostor, before, 'a'), { constructor: SecretsKeyError, message: 'the webhook secret does not decrypt with key "old" (a different key under the same id?)' });
});

t.test('a plaintext secret from before encryption still reads, and is not current', async (t) => {
  const ring = parseSecretsKey(oldKey);
  t.equal(decryptSecret(ring, secret, 'a'), secret);
  t.notOk(isCurrent(ring, secret));
});

t.test('remembering: each stored value is decrypted once, still bound to its app; failures are not kept; bounded', async (t) => {
  const keys = new Map(parseSecretsKey(oldKey).keys);
  const ring = { primaryId: 'old', keys };
  const decrypt = remembering(ring, 2);
  const stored = encryptSecret(ring, secret, 'work-buddy');
  t.equal(decrypt(stored, 'work-buddy'), secret);
  t.throws(() => decrypt(stored, 'hugo-ai'), { constructor: SecretsKeyError, message: 'the webhook secret does not decrypt with key "old" (a different key under the same id?)' }, "another app's row still does not decrypt it");
  const other = encryptSecret(ring, 'whsec_other', 'work-buddy');
  keys.delete('old');
  t.equal(decrypt(stored, 'work-buddy'), secret, 'the second time, without decrypting (the key is gone)');
  t.throws(() => decrypt(other, 'work-buddy'), { constructor: SecretsKeyError, message: 'the webhook secret is encrypted with key "old", which SECRETS_KEY does not list' }, 'a value not seen before is decrypted');
  keys.set('old', parseSecretsKey(oldKey).keys.get('old')!);
  t.equal(decrypt(other, 'work-buddy'), 'whsec_other', 'a failure was not kept');
  t.equal(decrypt(encryptSecret(ring, 'whsec_third', 'a'), 'a'), 'whsec_third');
  keys.delete('old');
  t.throws(() => decrypt(stored, 'work-buddy'), { constructor: SecretsKeyError, message: 'the webhook secret is encrypted with key "old", which SECRETS_KEY does not list' }, 'past its size the oldest value is forgotten');
});
