// The email channel's sender: the message as mime.ts composed it, over a small pool of SMTP
// connections to SMTP_URL (nodemailer's SMTPConnection: the protocol, PIPELINING, STARTTLS, AUTH),
// answered with a typed outcome like the webhook sender's — sent; retry (a 4xx reply, a refused or
// dropped connection, a server slower than the timeout); bounce (a permanent 5xx reply: the address
// does not take mail). Never throws. The pool is ours rather than nodemailer's transport: the
// transport takes even a ready message through its composer and a stream pipeline again, which
// cost about 200 µs of CPU per message — as much as the SMTP conversation itself.
import { parseConnectionUrl } from 'nodemailer/lib/shared';
import SMTPConnection from 'nodemailer/lib/smtp-connection';
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
  /** The system error's code under nodemailer's (ESOCKET), e.g. EPIPE. */
  originalCode?: string;
  response?: string;
}

const droppedByServer = (err: SmtpError) =>
  err.responseCode === undefined && (err.code === 'ECONNECTION' || err.originalCode === 'EPIPE' || err.originalCode === 'ECONNRESET');

/**
 * A permanent reply (5xx) to the envelope or the message bounces; everything else (4xx, network,
 * timeout, and a refused login or TLS: the server's set-up, not the address) is worth a retry.
 */
export function outcomeOfError(err: SmtpError): EmailOutcome {
  const reply = err.response ? err.response.replace(/\s+/g, ' ').slice(0, 300) : null;
  const error = reply ?? `${err.code ?? 'error'}: ${err.message}`.slice(0, 300);
  const aboutTheAddress = err.code === 'EENVELOPE' || err.code === 'EMESSAGE';
  return aboutTheAddress && typeof err.responseCode === 'number' && err.responseCode >= 500 ? { kind: 'bounce', error } : { kind: 'retry', error };
}

/** One connection of the pool; not alive once it failed, the server closed it, or it was let go. */
interface Link {
  connection: SMTPConnection;
  alive: boolean;
  sent: number;
}

export function smtpMailer(smtpUrl: string, timeoutMs: number, maxConnections = 12): Mailer {
  const { auth, ...target } = parseConnectionUrl(smtpUrl);
  const options = { ...target, connectionTimeout: timeoutMs, greetingTimeout: timeoutMs, socketTimeout: timeoutMs };
  const idle: Link[] = [];
  const waiting: (() => void)[] = [];
  let open = 0;
  let closed = false;

  const letGo = (link: Link) => {
    if (!link.alive) return;
    link.alive = false;
    open -= 1;
    const kept = idle.indexOf(link); // an idle one the server closed or timed out
    if (kept >= 0) idle.splice(kept, 1);
    link.connection.close();
    waiting.shift()?.();
  };
  const connect = () => new Promise<Link>((resolve, reject) => {
    const link: Link = { connection: new SMTPConnection(options), alive: true, sent: 0 };
    const fail = (err: Error) => {
      reject(err); // the first failure (closing emits 'end' after it); a no-op once connected
      letGo(link);
    };
    link.connection.on('error', fail);
    link.connection.once('end', () => fail(new Error('the SMTP server closed the connection')));
    link.connection.connect((err) => {
      if (err) return fail(err);
      if (!auth) return resolve(link);
      link.connection.login(auth, (loginErr) => (loginErr ? fail(loginErr) : resolve(link)));
    });
  });
  /** An idle connection (only live ones are kept), a new one while fewer than maxConnections are open, or the next one freed. */
  const acquire = async (): Promise<Link> => {
    for (;;) {
      if (closed) throw new Error('the mailer is closed');
      const link = idle.pop();
      if (link) return link;
      if (open < maxConnections) {
        open += 1;
        return connect();
      }
      await new Promise<void>((resolve) => waiting.push(resolve));
    }
  };
  const release = (link: Link) => {
    if (!link.alive) return;
    if (closed) return letGo(link);
    idle.push(link);
    waiting.shift()?.();
  };
  const transmit = (link: Link, envelope: { from: string; to: string[] }, raw: string) =>
    new Promise<string>((resolve, reject) =>
      link.connection.send(envelope, raw, (err, info) => (err ? reject(err) : resolve(String(info?.response ?? '')))));

  return {
    async send(message) {
      let envelope: { from: string; to: string[] };
      let raw: string;
      try {
        const sender = parseSender(message.from);
        envelope = { from: sender.address, to: [message.to] };
        raw = composeDigest(message, sender);
      } catch (err) {
        return { kind: 'retry', error: `the message could not be composed: ${(err as Error).message}` };
      }
      for (let attempt = 1; ; attempt++) {
        let link: Link | undefined;
        try {
          link = await acquire();
          const response = await transmit(link, envelope, raw);
          link.sent += 1;
          release(link);
          return { kind: 'sent', response };
        } catch (err) {
          const reused = (link?.sent ?? 0) > 0;
          if (link) letGo(link); // after any failure the session's state is unknown: a new one next time
          // a kept connection the server had just dropped: once more on a new one
          if (reused && attempt === 1 && droppedByServer(err as SmtpError)) continue;
          return outcomeOfError(err as SmtpError);
        }
      }
    },
    close() {
      closed = true;
      for (const link of idle.splice(0)) letGo(link);
      for (const wake of waiting.splice(0)) wake();
    },
  };
}
