// The digest renderer and composer on their own (worker/email/render.ts, mime.ts): what an app
// controls never becomes markup, a header or a link that is not http(s). The same message over real SMTP is in email.test.ts.
import { simpleParser } from 'mailparser';
import t from 'tap';
import { composeDigest, parseSender } from '../../worker/email/mime.js';
import { escapeHtml, headerText, linkable, renderDigest, subjectOf, type DigestItem } from '../../worker/email/render.js';

const item = (fields: Partial<DigestItem> = {}): DigestItem => ({
  id: '6f1c2d3e-4b5a-4c6d-8e7f-9a0b1c2d3e4f', app_name: 'Work Buddy', app_icon: null, title: 'Hello', body: 'Body',
  action_url: null, action_label: null, priority: 'normal', category: 'system', created_at: new Date('2026-12-01T10:00:00Z'), ...fields,
});
const options = { from: 'Oriva <n@example.com>', centerUrl: 'https://n.example.com', unsubscribeUrl: 'https://n.example.com/unsubscribe?token=abc', unsubscribeWhat: 'system notifications', messageDomain: 'n.example.com' };

t.test('header text: no CR, LF or control characters survive, and it is bounded', async (t) => {
  t.equal(headerText('Hi\r\nBcc: victim@example.com'), 'Hi Bcc: victim@example.com');
  t.equal(headerText('a\u0000b\u2028c\td'), 'a b c d');
  t.equal(headerText('x'.repeat(500)).length, 200);
  const email = renderDigest('e1', 'u@example.com', [item({ app_name: 'Evil\r\nBcc: a@b.c', title: 'T\nX-Injected: 1' })], options);
  t.notMatch(email.subject, /[\r\n]/);
  t.equal(email.subject, 'Evil Bcc: a@b.c: T X-Injected: 1');
});

t.test('links: only http(s) action URLs; icons only over https', async (t) => {
  for (const bad of ['javascript:alert(1)', 'JAVASCRIPT:alert(1)', 'data:text/html,<b>x</b>', 'myapp://open', 'vbscript:x', 'not a url', '']) {
    t.equal(linkable(bad), null, bad);
  }
  t.equal(linkable('https://example.com/a?b=1'), 'https://example.com/a?b=1');
  const email = renderDigest('e1', 'u@example.com', [
    item({ title: 'One', action_url: 'javascript:alert(1)', action_label: 'Click' }),
    item({ title: 'Two', action_url: 'https://example.com/x"onmouseover="alert(1)', action_label: 'Go', app_icon: 'http://insecure.example/icon.png' }),
  ], options);
  t.notMatch(email.html, /javascript:/i);
  t.notMatch(email.text, /javascript:/i);
  t.match(email.html, 'href="https://example.com/x%22onmouseover=%22alert(1)"', 'the URL is normalised and quoted');
  t.notMatch(email.html, /insecure\.example/, 'no http icon');
});

t.test('HTML: every app string is escaped', async (t) => {
  t.equal(escapeHtml(`<a href="x" onclick='y'>&</a>`), '&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;&lt;/a&gt;');
  const email = renderDigest('e1', 'u@example.com', [item({ app_name: '<b>App</b>', title: '<img src=x onerror=alert(1)>', body: '<script>x</script>', action_url: 'https://e.com', action_label: '<i>go</i>' })], options);
  for (const raw of ['<b>App</b>', '<img', '<script>', '<i>go</i>']) t.notMatch(email.html, raw);
  t.match(email.html, '&lt;img src=x onerror=alert(1)&gt;');
});

t.test('subject, Message-ID and one-click unsubscribe headers', async (t) => {
  t.equal(subjectOf([item()]), 'Work Buddy: Hello');
  t.equal(subjectOf([item(), item({ app_name: 'Hugo AI' }), item({ app_name: 'Calendar' }), item({ app_name: 'Mail' })]), '4 new notifications from Work Buddy, Hugo AI and 2 more');
  const email = renderDigest('0b6c', 'u@example.com', [item(), item()], options);
  t.equal(email.messageId, '<0b6c@n.example.com>');
  t.same(email.headers, { 'List-Unsubscribe': '<https://n.example.com/unsubscribe?token=abc>', 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' });
  t.match(email.text, 'Stop emails for system notifications: https://n.example.com/unsubscribe?token=abc');
  t.match(email.text, 'See everything in your notification center: https://n.example.com/');
});

t.test("a notification emailed on its own uses its template's email subject and HTML; a digest of several does not", async (t) => {
  const templated = item({ email_subject: 'Your session\r\nBcc: x@y.z', email_html: '<p>Hi <b>Sam</b></p>' });
  const single = renderDigest('e1', 'u@example.com', [templated], options);
  t.equal(single.subject, 'Your session Bcc: x@y.z', 'still one header line');
  t.match(single.html, '<p>Hi <b>Sam</b></p>');
  const digest = renderDigest('e2', 'u@example.com', [templated, item({ title: 'Other' })], options);
  t.equal(digest.subject, '2 new notifications from Work Buddy');
  t.notMatch(digest.html, '<p>Hi <b>Sam</b></p>');
});

t.test('the composed message (worker/email/mime.ts): parts, encoded words, one line per header', async (t) => {
  const email = renderDigest('0b6c', 'u@example.com', [item({ title: 'Grüße from Zoë 🎉', body: 'Line one\nLine two' })], options);
  const sender = parseSender('Oriva, Notifications <n@example.com>');
  t.same(sender, { address: 'n@example.com', header: '"Oriva, Notifications" <n@example.com>' }, 'a name with a comma is quoted');
  t.same(parseSender('Ørïva <n@example.com>').address, 'n@example.com');
  t.same(parseSender('n@example.com'), { address: 'n@example.com', header: 'n@example.com' });
  const raw = composeDigest({ ...email, to: 'u@example.com\r\nBcc: victim@example.com' }, parseSender('Ørïva <n@example.com>'), new Date('2026-12-01T10:00:00Z'));
  t.notMatch(raw.replace(/\r\n/g, ''), /[\r\n]/, 'CRLF line endings only');
  t.ok(raw.split('\r\n').every((line) => line.length <= 998), 'no line over 998 characters');
  const mail = await simpleParser(raw);
  t.equal(mail.subject, 'Work Buddy: Grüße from Zoë 🎉', 'a non-ASCII subject survives (RFC 2047)');
  t.same(mail.from?.value, [{ address: 'n@example.com', name: 'Ørïva' }]);
  t.equal(mail.headers.get('bcc'), undefined, 'a CR/LF in a header value never starts another header');
  t.equal(mail.messageId, '<0b6c@n.example.com>');
  t.equal(mail.date?.toISOString(), '2026-12-01T10:00:00.000Z');
  t.equal(mail.text?.trim(), email.text.trim(), 'the text part, decoded');
  t.equal(mail.html, email.html, 'the HTML part, decoded');
  const list = mail.headers.get('list') as { unsubscribe?: { url?: string }; 'unsubscribe-post'?: { name?: string } };
  t.equal(list.unsubscribe?.url, 'https://n.example.com/unsubscribe?token=abc');
  t.equal(list['unsubscribe-post']?.name, 'List-Unsubscribe=One-Click');
});
