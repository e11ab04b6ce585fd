// The email sender's own connection pool (worker/email/smtp.ts) against a real SMTP server on
// loopback (smtp-server): connections kept and shared up to the limit, a connection the server
// dropped replaced without a failed send, AUTH from the URL, a refused login retried rather than
// bounced, and a closed mailer answering instead of throwing.
import { simpleParser } from 'mailparser';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';
import t from 'tap';
import { smtpMailer } from '../../worker/email/smtp.js';
import type { DigestEmail } from '../../worker/email/render.js';

interface Server {
  url: string;
  connections: number;
  messages: Buffer[];
  sockets: Set<{ destroy(): void }>;
}

async function smtpServer(t: { teardown(fn: () => Promise<void>): void }, options: Partial<SMTPServerOptions> = {}): Promise<Server> {
  const state: Server = { url: '', connections: 0, messages: [], sockets: new Set() };
  const server = new SMTPServer({
    secure: false, authOptional: true, disabledCommands: ['STARTTLS'], logger: false,
    onConnect(session, callback) {
      state.connections += 1;
      callback();
    },
    onData(stream, _session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        state.messages.push(Buffer.concat(chunks));
        callback();
      });
    },
    ...options,
  });
  server.on('error', () => {});
  server.server.on('connection', (socket: { destroy(): void; once(e: string, f: () => void): void }) => {
    state.sockets.add(socket);
    socket.once('close', () => state.sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.server.address();
  state.url = `smtp://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return state;
}

const message = (i: number): DigestEmail => ({
  from: 'Oriva <n@example.com>', to: `user${i}@example.com`, subject: `Digest ${i}`, text: `Text ${i}`, html: `<p>HTML ${i}</p>`,
  messageId: `<email-${i}@example.com>`, headers: {},
});

t.test('sends share at most maxConnections kept connections', async (t) => {
  const server = await smtpServer(t);
  const mailer = smtpMailer(server.url, 5_000, 3);
  t.teardown(() => mailer.close());
  const outcomes = await Promise.all(Array.from({ length: 30 }, (_, i) => mailer.send(message(i))));
  t.same(new Set(outcomes.map((o) => o.kind)), new Set(['sent']), 'all 30 sent');
  t.equal(server.messages.length, 30);
  t.equal(server.connections, 3, 'over three connections');
  await mailer.send(message(30));
  t.equal(server.connections, 3, 'kept for the next send');
  const parsed = await simpleParser(server.messages[0]!);
  t.match(parsed.messageId, /^<email-\d+@example\.com>$/);
});

t.test('a connection the server dropped is replaced: the next send does not fail', async (t) => {
  const server = await smtpServer(t);
  const mailer = smtpMailer(server.url, 5_000, 1);
  t.teardown(() => mailer.close());
  t.equal((await mailer.send(message(1))).kind, 'sent');
  for (const socket of server.sockets) socket.destroy();
  await new Promise((r) => setTimeout(r, 50));
  t.match(await mailer.send(message(2)), { kind: 'sent', response: /^250/ });
  t.equal(server.connections, 2, 'a new connection');
  t.equal(server.messages.length, 2);
});

t.test('a kept connection the server drops as the next send starts: that send goes out on a new one', async (t) => {
  let server: Server | undefined = undefined;
  server = await smtpServer(t, {
    onMailFrom(_address, session, callback) {
      // the second message on a connection: the server goes away instead of answering
      if (session.transaction > 1) for (const socket of server!.sockets) socket.destroy();
      else callback();
    },
  });
  const mailer = smtpMailer(server.url, 5_000, 1);
  t.teardown(() => mailer.close());
  t.equal((await mailer.send(message(1))).kind, 'sent');
  t.match(await mailer.send(message(2)), { kind: 'sent' }, 'sent, not a retry later');
  t.equal(server.connections, 2);
  t.equal(server.messages.length, 2);
});

t.test('AUTH with the credentials in the URL; a refused login is retried, never a bounce', async (t) => {
  const server = await smtpServer(t, {
    authOptional: false, allowInsecureAuth: true,
    onAuth(auth, _session, callback) {
      if (auth.username === 'mailer' && auth.password === 's3cret/+') return callback(null, { user: 'mailer' });
      return callback(Object.assign(new Error('Invalid credentials'), { responseCode: 535 }));
    },
  });
  const good = smtpMailer(server.url.replace('smtp://', 'smtp://mailer:s3cret%2F%2B@'), 5_000);
  t.teardown(() => good.close());
  t.equal((await good.send(message(1))).kind, 'sent');
  const bad = smtpMailer(server.url.replace('smtp://', 'smtp://mailer:wrong@'), 5_000);
  t.teardown(() => bad.close());
  t.match(await bad.send(message(2)), { kind: 'retry', error: /535/ });
  t.equal(server.messages.length, 1, 'nothing sent with the wrong password');
});

t.test('a closed mailer answers retry; it does not throw', async (t) => {
  const server = await smtpServer(t);
  const mailer = smtpMailer(server.url, 5_000);
  t.equal((await mailer.send(message(1))).kind, 'sent');
  mailer.close();
  t.same(await mailer.send(message(2)), { kind: 'retry', error: 'error: the mailer is closed' });
  t.equal(server.messages.length, 1);
});

t.test('a From the composer cannot use answers retry with the reason; nothing is sent', async (t) => {
  const server = await smtpServer(t);
  const mailer = smtpMailer(server.url, 5_000);
  t.teardown(() => mailer.close());
  t.same(await mailer.send({ ...message(1), from: 'no address here' }), { kind: 'retry', error: 'the message could not be composed: not an email address: no address here' });
  t.equal(server.connections, 0);
});
