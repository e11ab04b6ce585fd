// The dev outbox (npm start without SMTP_URL): the emails the local mail catcher received, newest
// first, as they would arrive — subject, recipient, the text part and the one-click unsubscribe
// link. Everything from a message is escaped; nothing is linked but the unsubscribe URL of our own.
import { simpleParser } from 'mailparser';
import type { CaughtMessage } from '../../lib/dev/mail-catcher.js';

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
const escape = (value: string) => value.replace(/[&<>"']/g, (c) => ESCAPES[c]!);

export async function outboxPage(messages: CaughtMessage[], shown = 50): Promise<string> {
  const items = await Promise.all(messages.slice(-shown).reverse().map(async (message) => {
    const mail = await simpleParser(message.raw);
    const list = mail.headers.get('list') as { unsubscribe?: { url?: string } } | undefined;
    const unsubscribe = list?.unsubscribe?.url;
    return `<article><h2>${escape(mail.subject ?? '(no subject)')}</h2>
<p class="meta">To ${escape(message.to.join(', '))} · ${escape(message.receivedAt.toISOString())} · Message-ID ${escape(mail.messageId ?? '')}</p>
<pre>${escape(mail.text ?? '')}</pre>
${unsubscribe ? `<p class="meta">List-Unsubscribe: ${escape(unsubscribe)}</p>` : ''}</article>`;
  }));
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Dev outbox · Oriva</title>
<style>body{font-family:system-ui,sans-serif;max-width:48rem;margin:2rem auto;padding:0 1rem;color:#101828}article{border:1px solid #e4e7ec;border-radius:10px;padding:1rem;margin:1rem 0}h2{font-size:1.05rem;margin:0}.meta{color:#475467;font-size:.85rem;overflow-wrap:anywhere}pre{white-space:pre-wrap;overflow-wrap:anywhere}</style></head>
<body><h1>Dev outbox</h1><p>Emails the local mail catcher received (npm start without SMTP_URL): nothing left this machine. Newest first, at most ${shown}.</p>
${items.length ? items.join('\n') : '<p>No emails yet. A user gets one when they are offline and have an email address in their settings.</p>'}
</body></html>`;
}
