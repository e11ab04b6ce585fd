// A local SMTP server that keeps what it receives in memory: `npm start`'s dev outbox when no
// SMTP_URL is set, and the real SMTP server of the email tests and bench (loopback only). A reply
// policy lets a test answer a message with a temporary (421) or permanent (550) refusal, or stall.
import { SMTPServer, type SMTPServerDataStream } from 'smtp-server';

export interface CaughtMessage {
  from: string;
  to: string[];
  raw: Buffer;
  receivedAt: Date;
}

/** accept; refuse with an SMTP reply code; or never answer (a server slower than any timeout). */
export type Reply = 'accept' | { code: number; message: string } | 'stall';

export interface MailCatcher {
  port: number;
  url: string;
  /** The newest messages (at most `keep`). */
  messages: CaughtMessage[];
  /** Every message accepted since the start. */
  accepted: number;
  /** Decide the reply to each message (default: accept everything). */
  reply: (to: string[], attempt: number) => Reply;
  close(): Promise<void>;
}

export async function startMailCatcher(port = 0, host = '127.0.0.1', keep = 500): Promise<MailCatcher> {
  const attempts = new Map<string, number>();
  const catcher: MailCatcher = {
    port: 0,
    url: '',
    messages: [],
    accepted: 0,
    reply: () => 'accept',
    close: async () => {},
  };
  const server = new SMTPServer({
    secure: false,
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    banner: 'Oriva dev mail catcher',
    logger: false,
    size: 10 * 1024 * 1024,
    onData(stream: SMTPServerDataStream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const to = session.envelope.rcptTo.map((r) => r.address);
        const key = to.join(',');
        const attempt = (attempts.get(key) ?? 0) + 1;
        attempts.set(key, attempt);
        const reply = catcher.reply(to, attempt);
        if (reply === 'stall') return; // never answer: the client times out
        if (reply !== 'accept') {
          const err = Object.assign(new Error(reply.message), { responseCode: reply.code });
          return callback(err);
        }
        const from = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
        catcher.accepted += 1;
        catcher.messages.push({ from, to, raw: Buffer.concat(chunks), receivedAt: new Date() });
        if (catcher.messages.length > keep) catcher.messages.splice(0, catcher.messages.length - keep);
        callback();
      });
    },
  });
  server.on('error', () => {}); // a client that drops the connection is not the catcher's problem
  catcher.port = await new Promise<number>((resolve, reject) => {
    server.server.once('error', reject);
    server.listen(port, host, () => {
      const address = server.server.address();
      resolve(typeof address === 'object' && address ? address.port : port);
    });
  });
  catcher.url = `smtp://${host}:${catcher.port}`;
  catcher.close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return catcher;
}
