// One digest email as the bytes SMTP carries: a multipart/alternative message (text and HTML parts,
// base64) with the headers render.ts chose. The message has one fixed shape, so it is written
// directly, the header words encoded by nodemailer's MIME functions (RFC 2047) — nodemailer's
// general composer (MailComposer: a node tree streamed through transforms) cost about 430 µs of
// CPU per digest, as much as the rest of the send. Pure but for the date.
import { encodeWords, foldLines, isPlainText, quoteString } from 'nodemailer/lib/mime-funcs';
import type { DigestEmail } from './render.js';

export interface Sender {
  /** The envelope's MAIL FROM: the bare address. */
  address: string;
  /** The From header's value, display name encoded or quoted as needed. */
  header: string;
}

/** EMAIL_FROM ("Name <address>" or an address, as lib/config.ts admits it) as envelope and header. */
export function parseSender(from: string): Sender {
  const match = /^(?:(.*?) )?<?([^<>\s]+@[^<>\s]+?)>?$/.exec(from.trim());
  if (!match) throw new Error(`not an email address: ${from}`);
  const name = (match[1] ?? '').trim();
  const address = match[2]!;
  if (!name) return { address, header: address };
  const word = !isPlainText(name) ? encodeWords(name, 'B', 52) : /^[\w !#$%&'*+/=?^`{|}~-]+$/.test(name) ? name : quoteString(name);
  return { address, header: `${word} <${address}>` };
}

const CRLF = '\r\n';
/** A header value on one line whatever it holds (render.ts already flattens app strings). */
const oneLine = (value: string) => value.replace(/[\r\n]+/g, ' ');

function header(name: string, value: string): string {
  const line = `${name}: ${oneLine(value)}`;
  return line.length > 78 ? foldLines(line, 76) : line;
}

/** Base64 in lines of 76 characters. */
function base64Lines(text: string): string {
  const encoded = Buffer.from(text, 'utf8').toString('base64');
  const lines: string[] = [];
  for (let i = 0; i < encoded.length; i += 76) lines.push(encoded.slice(i, i + 76));
  return lines.join(CRLF);
}

/**
 * The message: its boundary comes from the Message-ID (unique per email, and no base64 line can
 * contain it), so a resend carries the same bytes but for the Date.
 */
export function composeDigest(email: DigestEmail, sender: Sender, date = new Date()): string {
  const boundary = `--_oriva_${email.messageId.replace(/[^\w.-]/g, '')}`;
  const subject = isPlainText(email.subject) ? email.subject : encodeWords(email.subject, 'B', 52);
  const headers = [
    header('From', sender.header),
    header('To', email.to),
    header('Subject', subject),
    header('Message-ID', email.messageId),
    header('Date', date.toUTCString().replace(/GMT$/, '+0000')),
    ...Object.entries(email.headers).map(([name, value]) => header(name, value)),
    'MIME-Version: 1.0',
    `Content-Type: multipart/alternative; boundary="${boundary}"`,
  ];
  const part = (type: string, body: string) =>
    [`--${boundary}`, `Content-Type: ${type}; charset=utf-8`, 'Content-Transfer-Encoding: base64', '', base64Lines(body)].join(CRLF);
  return [headers.join(CRLF), '', part('text/plain', email.text), part('text/html', email.html), `--${boundary}--`, ''].join(CRLF);
}
