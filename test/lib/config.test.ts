import t from 'tap';
import { ConfigError, loadConfig } from '../../lib/config.js';

t.test('defaults', async (t) => {
  const config = loadConfig({});
  t.equal(config.databaseUrl, undefined, 'no DATABASE_URL: embedded Postgres');
  t.equal(config.port, 3000);
  t.equal(config.gatewayPort, 3001);
  t.equal(config.dataDir, '.data');
  t.equal(config.retentionDays, 90);
  t.same(config.webhookAllowlist, [], 'production default: nothing private is allowed');
  t.same(config.rateLimits, { windowMs: 900_000, events: 1000, notifications: 500, queries: 1000, webhooks: 50, broadcasts: 10, broadcastWindowMs: 3_600_000, wsConnectionsPerUser: 10, wsConnectionsPerApp: 100 });
  t.equal(config.webhooksPerApp, 20);
  t.equal(config.secrets.primaryId, 'dev', 'outside production, without SECRETS_KEY or a key file: the built-in dev key');
  t.same(config.email, {
    smtpUrl: null, from: 'Oriva Notifications <notifications@localhost>', publicUrl: 'http://localhost:3000',
    timeoutMs: 15_000, maxAttempts: 6, retryBaseMs: 30_000, leaseMs: 120_000, unsubscribeTtlDays: 60,
  }, 'no SMTP_URL: the worker sends no email (npm start runs a local catcher)');
  t.same(loadConfig({ SMTP_URL: 'smtps://u:p@mail.example.com:465', EMAIL_FROM: 'Oriva <notify@example.com>', PUBLIC_URL: 'https://n.example.com/' }).email,
    { ...config.email, smtpUrl: 'smtps://u:p@mail.example.com:465', from: 'Oriva <notify@example.com>', publicUrl: 'https://n.example.com' });
});

t.test('each bad value is refused with a message naming the variable', async (t) => {
  const cases: Array<[Record<string, string>, RegExp]> = [
    [{ DATABASE_URL: 'not a url' }, /^DATABASE_URL is not a valid URL/],
    [{ DATABASE_URL: 'mysql://u@h/db' }, /^DATABASE_URL must start with postgres:\/\//],
    [{ DATABASE_URL: 'postgres://u@localhost' }, /^DATABASE_URL names no database/],
    [{ NODE_ENV: 'production' }, /^JWT_SECRET is required when NODE_ENV=production/],
    [{ JWT_SECRET: 'short' }, /^JWT_SECRET must be at least 32 characters/],
    [{ PORT: 'abc' }, /^PORT must be a whole number/],
    [{ PORT: '70000' }, /^PORT must be between 0 and 65535/],
    [{ RETENTION_DAYS: '0' }, /^RETENTION_DAYS must be between 1/],
    [{ WEBHOOK_ALLOWLIST: 'example.com/24' }, /^WEBHOOK_ALLOWLIST entry "example.com\/24"/],
    [{ NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(32) }, /^SECRETS_KEY is required when NODE_ENV=production \(generate one: npx oriva secrets generate-key\)$/],
    [{ SECRETS_KEY: 'nokey' }, /^SECRETS_KEY entries must look like <id>:<base64 of 32 bytes>/],
    [{ SECRETS_KEY: 'k1:c2hvcnQ=' }, /^SECRETS_KEY key "k1" must be 32 bytes in base64$/],
    [{ SECRETS_KEY: `k1:${Buffer.alloc(32).toString('base64')},k1:${Buffer.alloc(32, 1).toString('base64')}` }, /^SECRETS_KEY lists key "k1" twice$/],
    [{ SMTP_URL: 'not a url' }, /^SMTP_URL is not a URL \(expected smtp:\/\/user:pass@host:587 or smtps:\/\/host:465\)$/],
    [{ SMTP_URL: 'http://mail.example.com' }, /^SMTP_URL must use smtp: or smtps: \(got http:\)$/],
    [{ EMAIL_FROM: 'not an address' }, /^EMAIL_FROM must be an email address, optionally with a name/],
    [{ EMAIL_FROM: 'Oriva <a@b.c>\r\nBcc: x@y.z' }, /^EMAIL_FROM must be an email address/],
    [{ NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(32), SECRETS_KEY: `k1:${Buffer.alloc(32, 7).toString('base64')}`, SMTP_URL: 'smtp://mail.example.com' }, /^EMAIL_FROM is required when SMTP_URL is set and NODE_ENV=production$/],
    [{ PUBLIC_URL: 'javascript:alert(1)' }, /^PUBLIC_URL must be an http\(s\) origin/],
    [{ EMAIL_TIMEOUT_MS: '5' }, /^EMAIL_TIMEOUT_MS must be between 100/],
  ];
  for (const [env, message] of cases) {
    t.throws(() => loadConfig(env), { constructor: ConfigError, message }, JSON.stringify(env));
  }
});

t.test('lists are split and trimmed', async (t) => {
  const config = loadConfig({ WEBHOOK_ALLOWLIST: ' 127.0.0.1, localhost ,10.0.0.0/8', ALLOWED_ORIGINS: 'https://a.example,https://b.example' });
  t.same(config.webhookAllowlist, ['127.0.0.1', 'localhost', '10.0.0.0/8']);
  t.same(config.allowedOrigins, ['https://a.example', 'https://b.example']);
});
