// A process started with bad configuration exits non-zero with one clear line naming the problem.
import { createServer } from 'node:net';
import t from 'tap';
import { testDatabase } from '../helpers/db.js';
import { runChild } from '../helpers/spawn.js';

const db = await testDatabase(t);
const oneLine = (stderr: string) => stderr.split('\n').filter((l) => l.trim() !== '');

for (const entry of ['server/main.ts', 'worker/main.ts', 'gateway/main.ts']) {
  const name = entry.split('/')[0];
  t.test(`${name}: malformed DATABASE_URL`, async (t) => {
    const result = await runChild(entry, [], { DATABASE_URL: 'postgres//nope' });
    t.equal(result.code, 1);
    t.same(oneLine(result.stderr), [`${name}: cannot start: DATABASE_URL is not a valid URL (expected postgres://user:password@host:port/database)`]);
  });
  t.test(`${name}: missing JWT_SECRET in production`, async (t) => {
    const result = await runChild(entry, [], { DATABASE_URL: db.url, NODE_ENV: 'production', JWT_SECRET: '' });
    t.equal(result.code, 1);
    t.same(oneLine(result.stderr), [`${name}: cannot start: JWT_SECRET is required when NODE_ENV=production`]);
  });
  t.test(`${name}: missing or malformed SECRETS_KEY`, async (t) => {
    const missing = await runChild(entry, [], { DATABASE_URL: db.url, NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(32), SECRETS_KEY: '' });
    t.equal(missing.code, 1);
    t.same(oneLine(missing.stderr), [`${name}: cannot start: SECRETS_KEY is required when NODE_ENV=production (generate one: npx oriva secrets generate-key)`]);
    const malformed = await runChild(entry, [], { DATABASE_URL: db.url, SECRETS_KEY: 'k1:too-short' });
    t.equal(malformed.code, 1);
    t.same(oneLine(malformed.stderr), [`${name}: cannot start: SECRETS_KEY key "k1" must be 32 bytes in base64`]);
  });
  t.test(`${name}: malformed SMTP_URL or EMAIL_FROM`, async (t) => {
    const smtp = await runChild(entry, [], { DATABASE_URL: db.url, SMTP_URL: 'mail.example.com:25' });
    t.equal(smtp.code, 1);
    t.same(oneLine(smtp.stderr), [`${name}: cannot start: SMTP_URL must use smtp: or smtps: (got mail.example.com:)`]);
    const from = await runChild(entry, [], { DATABASE_URL: db.url, EMAIL_FROM: 'nobody' });
    t.equal(from.code, 1);
    t.same(oneLine(from.stderr), [`${name}: cannot start: EMAIL_FROM must be an email address, optionally with a name: "Oriva <notify@example.com>"`]);
  });
}

t.test('no DATABASE_URL and no embedded Postgres running: the lone server says what to do', async (t) => {
  const result = await runChild('server/main.ts', [], { ORIVA_PG_PORT: '1' });
  t.equal(result.code, 1);
  t.match(oneLine(result.stderr), [/^server: cannot start: DATABASE_URL is not set and no embedded Postgres answers on port 1: run `npm start` or set DATABASE_URL$/]);
});

t.test('a port already in use', async (t) => {
  const blocker = createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => blocker.close(() => resolve())));
  const port = String((blocker.address() as { port: number }).port);
  const server = await runChild('server/main.ts', [], { DATABASE_URL: db.url, PORT: port });
  t.equal(server.code, 1);
  t.same(oneLine(server.stderr), [`server: cannot start: port ${port} on 127.0.0.1 is already in use`]);
  const gateway = await runChild('gateway/main.ts', [], { DATABASE_URL: db.url, GATEWAY_PORT: port });
  t.equal(gateway.code, 1);
  t.same(oneLine(gateway.stderr), [`gateway: cannot start: port ${port} on 127.0.0.1 is already in use`]);
});

t.test('the gateway refuses the uWebSockets.js JS fallback', async (t) => {
  const result = await runChild('gateway/main.ts', [], { DATABASE_URL: db.url, GATEWAY_PORT: '0', UWS_USE_FALLBACK: '1' });
  t.equal(result.code, 1);
  t.same(oneLine(result.stderr), [
    'gateway: cannot start: uWebSockets.js loaded its slow JS fallback (UWS_USE_FALLBACK is set); refusing to start the gateway on it',
  ]);
});
