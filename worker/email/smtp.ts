// The email channel's sender: one SMTP send through nodemailer (a small pool of connections to
// SMTP_URL) of the message as mime.ts composed it, answered with a typed outcome like the webhook
// sender's — sent; retry (a 4xx reply, a refused or dropped connection, a server slower than the
// timeout); bounce (a permanent 5xx reply: the address does not take mail). Never throws.
import nodemailer from 'nodemailer';
import { composeDigest, parseSender } from './mime.js';
import type { DigestEmail } from './render.js';

export type EmailOutcome =
  | { kind: 'sent'; response: string }
  | { kind: 'retry'; error: string }
  | { kind: 'bounce'; error: string };

export interface Mailer {
  send(message: DigestEmail): Promise<EmailOutcome>;
  close(): void;
}

interface SmtpError extends Error {
  responseCode?: number;
  code?: string;
  response?: string;
}

/** A permanent reply (5xx) bounces; everything else (4xx, network, timeout) is worth a retry. */
export function outcomeOfError(err: SmtpError): EmailOutcome {
  const reply = err.response ? err.response.replace(/\s+/g, ' ').slice(0, 300) : null;
  const error = reply ?? `${err.code ?? 'error'}: ${err.message}`.slice(0, 300);
  return typeof err.responseCode === 'number' && err.responseCode >= 500 ? { kind: 'bounce', error } : { kind: 'retry', error };
}

export function smtpMailer(smtpUrl: string, timeoutMs: number, maxConnections = 12): Mailer {
  const transport = nodemailer.createTransport({
    url: smtpUrl,
    pool: true,
    maxConnections,
    // one connection carries any number of messages (nodemailer's default reconnects after 100)
    maxMessages: Infinity,
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs,
  });
  return {
    async send(message) {
      try {
        const sender = parseSender(message.from);
        // sent as composed (raw): nodemailer adds nothing and reads no file or URL
        const info = await transport.sendMail({ envelope: { from: sender.address, to: [message.to] }, raw: composeDigest(message, sender) });
        return { kind: 'sent', response: String(info.response ?? '') };
      } catch (err) {
        return outcomeOfError(err as SmtpError);
      }
    },
    close: () => transport.close(),
  };
}
