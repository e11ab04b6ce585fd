// Signatures: the Standard Webhooks test vector from DESIGN §5, cross-checked with the independent
// `standardwebhooks` package, and the rotation / X-Oriva-Signature headers.
import { createHmac } from 'node:crypto';
import t from 'tap';
import { Webhook } from 'standardwebhooks';
import { orivaSignature, signatureHeaders, standardSignature } from '../../lib/webhooks/signature.js';

const vector = {
  secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  id: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
  timestamp: 1614265330,
  body: '{"test": 2432232314}',
  signature: 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
};

t.test('the DESIGN §5 test vector', async (t) => {
  t.equal(standardSignature(vector.secret, vector.id, vector.timestamp, vector.body), vector.signature);
  const reference = new Webhook(vector.secret).sign(vector.id, new Date(vector.timestamp * 1000), vector.body);
  t.equal(reference, vector.signature, 'standardwebhooks agrees');
});

t.test('headers verify with standardwebhooks, with either secret during a rotation', async (t) => {
  const previous = 'whsec_' + Buffer.from('previous-secret-previous-secret!').toString('base64');
  const now = Date.now();
  const headers = signatureHeaders({ current: vector.secret, previous, previousExpiresAt: new Date(now + 1000) }, vector.id, Math.floor(now / 1000), vector.body, now);
  t.equal(headers['webhook-id'], vector.id);
  t.equal(headers['webhook-signature']!.split(' ').length, 2);
  t.same(new Webhook(vector.secret).verify(vector.body, headers), { test: 2432232314 });
  t.same(new Webhook(previous).verify(vector.body, headers), { test: 2432232314 });
  const later = signatureHeaders({ current: vector.secret, previous, previousExpiresAt: new Date(now - 1) }, vector.id, Math.floor(now / 1000), vector.body, now);
  t.equal(later['webhook-signature']!.split(' ').length, 1, 'an expired previous secret no longer signs');
  t.throws(() => new Webhook(previous).verify(vector.body, later));
});

t.test('X-Oriva-Signature is sha256=<hex HMAC of the body> keyed with the secret string', async (t) => {
  t.equal(orivaSignature(vector.secret, vector.body), `sha256=${createHmac('sha256', vector.secret).update(vector.body).digest('hex')}`);
  t.equal(signatureHeaders({ current: vector.secret }, vector.id, vector.timestamp, vector.body)['x-oriva-signature'], orivaSignature(vector.secret, vector.body));
});
