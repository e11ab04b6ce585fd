// The client's verifyWebhook (issue 18, item 5) agrees with the `standardwebhooks` package on every
// case — authentic, tampered, wrong secret, stale or future timestamp (±5 minutes), rotation (two
// signatures), unknown signature versions, missing headers — and accepts what the service's own
// signer sends, including while a secret rotates. It runs against the built ESM (client/dist) that
// `npm test` compiles with `tsc -p client`, and against the sources.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { Webhook } from 'standardwebhooks';
import t from 'tap';
import { verifyWebhook as fromSource } from '../../client/src/index.js';
import { fromRoot } from '../../lib/paths.js';
import { signatureHeaders } from '../../lib/webhooks/signature.js';

const newSecret = () => `whsec_${randomBytes(24).toString('base64')}`;
const secret = newSecret();
const other = newSecret();
const body = JSON.stringify({ type: 'notification.read', timestamp: '2026-12-06T10:00:00.000Z', data: { seq: 42, title: 'Ünïcödé ✓' } });
const now = new Date();
const seconds = (offset: number) => Math.floor(now.getTime() / 1000) + offset;

/** Headers as the Standard Webhooks reference signs them. */
function signed(key: string, payload: string, ts = seconds(0), id = 'msg_abc') {
  const signature = new Webhook(key).sign(id, new Date(ts * 1000), payload);
  return { 'webhook-id': id, 'webhook-timestamp': String(ts), 'webhook-signature': signature };
}

const built = fromRoot('client', 'dist', 'index.js');
const implementations: [string, typeof fromSource][] = [['source', fromSource]];
if (existsSync(built)) implementations.push(['built ESM', ((await import(built)) as { verifyWebhook: typeof fromSource }).verifyWebhook]);

t.test('npm test builds the client to ESM', async (t) => {
  t.ok(existsSync(built), 'client/dist/index.js exists (tsc -p client)');
});

const cases: [string, Record<string, string>, string][] = [
  ['authentic', signed(secret, body), body],
  ['a tampered body', signed(secret, body), body.replace('42', '43')],
  ['another secret', signed(other, body), body],
  ['4 minutes old', signed(secret, body, seconds(-240)), body],
  ['6 minutes old', signed(secret, body, seconds(-360)), body],
  ['6 minutes ahead', signed(secret, body, seconds(360)), body],
  ['two signatures, the second ours (rotation)', { ...signed(secret, body), 'webhook-signature': `${signed(other, body)['webhook-signature']} ${signed(secret, body)['webhook-signature']}` }, body],
  ['only an unknown version', { ...signed(secret, body), 'webhook-signature': signed(secret, body)['webhook-signature'].replace('v1,', 'v2,') }, body],
  ['no webhook-signature', { 'webhook-id': 'msg_abc', 'webhook-timestamp': String(seconds(0)) }, body],
  ['no webhook-id', { 'webhook-timestamp': String(seconds(0)), 'webhook-signature': signed(secret, body)['webhook-signature'] }, body],
  ['a timestamp that is not a number', { ...signed(secret, body), 'webhook-timestamp': 'soon' }, body],
  ['a signature for another id', { ...signed(secret, body, seconds(0), 'msg_other'), 'webhook-id': 'msg_abc' }, body],
];

for (const [name, verify] of implementations) {
  t.test(`${name}: the same verdict as standardwebhooks on every case`, async (t) => {
    for (const [what, headers, payload] of cases) {
      let reference: unknown;
      try {
        reference = new Webhook(secret).verify(payload, headers);
      } catch {
        reference = 'rejected';
      }
      const ours = await verify(secret, headers, payload, now).catch((err: Error) => (err.name === 'WebhookVerificationError' ? 'rejected' : err));
      t.same(ours, reference, what);
    }
  });

  t.test(`${name}: accepts the service's own deliveries, during a rotation too, from a Headers object or bytes`, async (t) => {
    const single = signatureHeaders({ current: secret }, 'msg_1', seconds(0), body);
    t.same(await verify(secret, single, body, now), JSON.parse(body));
    const rotating = signatureHeaders({ current: other, previous: secret, previousExpiresAt: new Date(now.getTime() + 60_000) }, 'msg_2', seconds(0), body);
    t.same(await verify(secret, rotating, body, now), JSON.parse(body), 'a receiver still on the old secret');
    t.same(await verify(other, new Headers(rotating), new TextEncoder().encode(body), now), JSON.parse(body), 'one already on the new secret, with a Headers object and bytes');
    t.same(await verify([newSecret(), secret], single, body, now), JSON.parse(body), 'a receiver holding two secrets');
    await t.rejects(verify(secret, single, `${body} `, now), { name: 'WebhookVerificationError', message: 'No matching signature' });
    await t.rejects(verify(secret, signed(secret, body, seconds(-400)), body, now), { message: 'The message is too old (webhook-timestamp more than 5 minutes ago)' });
    await t.rejects(verify('not base64!', single, body, now), { message: 'The secret is not a whsec_ secret (base64)' });
  });
}
